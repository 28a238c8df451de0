// One shape for every labelled form control: label, control, hint and error, wired for
// assistive technology in one place (the label's for/id, aria-invalid, and aria-describedby
// naming the hint and the error), so a form cannot forget one of them.
import { useId, type ReactNode } from "react";

/** What the control spreads onto itself: `<input {...control} …/>`, `<textarea>` or `<select>` alike. */
export interface FieldControl {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

export interface FormFieldProps {
  label: ReactNode;
  /** Read by screen readers, not drawn: for a control whose purpose its surroundings already show. */
  labelHidden?: boolean;
  /** Always shown below the control (format, limits, consequences). */
  hint?: ReactNode;
  /** Shown instead of nothing when the value was refused; marks the control invalid. */
  error?: string | null | undefined;
  /** Ids of further elements that describe the control (a suggestion list beside it). */
  describedBy?: string;
  className?: string;
  children: (control: FieldControl) => ReactNode;
}

export function FormField({ label, labelHidden = false, hint, error, describedBy, className, children }: FormFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describers = [error ? errorId : null, hint ? hintId : null, describedBy ?? null].filter((x): x is string => x !== null);
  return (
    <div className={className ? `field ${className}` : "field"}>
      <label className={labelHidden ? "visually-hidden" : "field__label"} htmlFor={id}>
        {label}
      </label>
      {children({
        id,
        "aria-invalid": error ? true : undefined,
        "aria-describedby": describers.length > 0 ? describers.join(" ") : undefined,
      })}
      {error ? (
        <p id={errorId} className="field__error">
          {error}
        </p>
      ) : null}
      {hint ? (
        <p id={hintId} className="field__hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
