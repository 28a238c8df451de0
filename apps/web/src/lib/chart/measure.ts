// The width text takes on screen, for sizing a chart's axis to its labels.
let context: CanvasRenderingContext2D | null | undefined;

/** Width in CSS pixels of `text` in `font` (a CSS font shorthand, e.g. "12px system-ui"). */
export function textWidth(text: string, font: string): number {
  context ??= document.createElement("canvas").getContext("2d");
  // No canvas (very old browsers): a generous estimate of a digit's width.
  if (!context) return text.length * 8;
  context.font = font;
  return context.measureText(text).width;
}
