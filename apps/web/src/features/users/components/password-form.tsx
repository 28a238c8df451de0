import { useId, useState, type FormEvent } from "react";
import "../users.css";
import { FormField } from "../../../components/form-field.tsx";
import { useSetPassword, type PasswordTarget } from "../api/passwords.ts";
import { describeUserError } from "./user-errors.ts";

/** The server's own floor (contracts: PasswordChange, UserUpdate), checked here first to say so beside the field. */
const MIN_PASSWORD_LENGTH = 8;

/**
 * Sets a password: one's own (`kind: "own"`: the current password proves it is you, your
 * other sessions end and this one stays), or another user's by an admin (`kind: "user"`,
 * a compact form in the users table; that user is signed out everywhere). `onClose` is
 * called after a saved change or Cancel (the admin's form closes; one's own stays, cleared).
 */
export function PasswordForm({ target, onClose }: { target: PasswordTarget; onClose?: () => void }) {
  const save = useSetPassword(target);
  const own = target.kind === "own";
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [tooShort, setTooShort] = useState(false);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (next.length < MIN_PASSWORD_LENGTH) return setTooShort(true);
    setTooShort(false);
    save.mutate(
      { currentPassword: current, newPassword: next },
      {
        onSuccess: () => {
          setCurrent("");
          setNext("");
          onClose?.();
        },
      },
    );
  };

  return (
    <form className={own ? "form password-form" : "users__password"} onSubmit={submit} noValidate>
      {own ? (
        <FormField label="Current password">
          {(control) => (
            <input
              {...control}
              type="password"
              autoComplete="current-password"
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
              required
            />
          )}
        </FormField>
      ) : null}
      <FormField
        label={own ? "New password" : `New password for ${target.email}`}
        labelHidden={!own}
        error={tooShort ? `The new password needs at least ${MIN_PASSWORD_LENGTH} characters.` : null}
        hint={
          own
            ? `At least ${MIN_PASSWORD_LENGTH} characters. Your other sessions are signed out; this one stays.`
            : `${target.email} is signed out everywhere.`
        }
      >
        {(control) => (
          <input
            {...control}
            type="password"
            autoComplete="new-password"
            placeholder={own ? undefined : `new password (${MIN_PASSWORD_LENGTH}+)`}
            value={next}
            onChange={(e) => setNext(e.target.value)}
            required
          />
        )}
      </FormField>
      {save.error ? (
        <p className="notice notice--error" role="alert">
          {describeUserError(save.error)}
        </p>
      ) : null}
      {own && save.isSuccess ? (
        <p role="status" className="users__done">
          Password changed.
        </p>
      ) : null}
      <div className="password-form__buttons">
        <button type="submit" className="button button--primary" disabled={save.isPending || (own && current === "") || next === ""}>
          {own ? (save.isPending ? "Changing…" : "Change password") : "Save"}
        </button>
        {own ? null : (
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** Settings → Your password: every signed-in user's own. */
export function OwnPasswordSection() {
  const headingId = useId();
  return (
    <section className="users" aria-labelledby={headingId}>
      <h2 id={headingId} className="users__title">
        Your password
      </h2>
      <PasswordForm target={{ kind: "own" }} />
    </section>
  );
}
