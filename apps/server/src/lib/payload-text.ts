// How an MQTT payload's bytes travel as text (the message log, retained state, the live
// channel): UTF-8 text when they are valid UTF-8, else base64. One decoder decides for all.

export interface PayloadText {
  payload: string;
  encoding: "utf8" | "base64";
}

/** Fails on any invalid sequence instead of substituting U+FFFD, so such bytes go as base64. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function payloadAsText(payload: Uint8Array | string): PayloadText {
  if (typeof payload === "string") return { payload, encoding: "utf8" };
  try {
    return { payload: utf8.decode(payload), encoding: "utf8" };
  } catch {
    return { payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64"), encoding: "base64" };
  }
}
