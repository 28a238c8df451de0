import { useId, useRef, type ReactNode } from "react";

interface ConfirmButtonProps {
  /** The button's text, e.g. "Delete device". */
  children: ReactNode;
  /** The question in the dialog. */
  title: string;
  /** What will happen, in a sentence. */
  description: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
}

/** A button that asks first, in a native modal <dialog> (focus trap and Escape for free). */
export function ConfirmButton({ children, title, description, confirmLabel, onConfirm, disabled, danger = true }: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const tone = danger ? "button--danger" : "button--primary";
  return (
    <>
      <button
        type="button"
        className={`button ${danger ? "button--danger-quiet" : ""}`}
        disabled={disabled}
        onClick={() => dialog.current?.showModal()}
      >
        {children}
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby={titleId}>
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        <div className="dialog__body">{description}</div>
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => dialog.current?.close()} autoFocus>
            Cancel
          </button>
          <button
            type="button"
            className={`button ${tone}`}
            onClick={() => {
              dialog.current?.close();
              onConfirm();
            }}
          >
            {confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}
