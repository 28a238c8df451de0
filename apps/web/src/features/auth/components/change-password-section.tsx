import { useId, useState, type FormEvent } from "react";
import { ActionError } from "../../../components/query-state.tsx";
import { useChangePassword } from "../api/change-password.ts";

/** Your own password: the current one proves it is you; your other sessions end, this one stays. */
export function ChangePasswordSection() {
  const headingId = useId();
  const ids = { current: useId(), next: useId() };
  const change = useChangePassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (next.length < 8) return setProblem("The new password needs at least 8 characters.");
    setProblem(null);
    change.mutate(
      { currentPassword: current, newPassword: next },
      {
        onSuccess: () => {
          setCurrent("");
          setNext("");
        },
      },
    );
  };

  return (
    <section className="users" aria-labelledby={headingId}>
      <h2 id={headingId} className="users__title">
        Your password
      </h2>
      <form className="form password-form" onSubmit={submit} noValidate>
        <div className="field">
          <label className="field__label" htmlFor={ids.current}>
            Current password
          </label>
          <input
            id={ids.current}
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={ids.next}>
            New password
          </label>
          <input
            id={ids.next}
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            required
          />
          <p className="field__hint">At least 8 characters. Your other sessions are signed out; this one stays.</p>
        </div>
        {problem ? (
          <p className="notice notice--error" role="alert">
            {problem}
          </p>
        ) : null}
        {change.error ? <ActionError error={change.error} /> : null}
        {change.isSuccess ? (
          <p role="status" className="users__done">
            Password changed.
          </p>
        ) : null}
        <div>
          <button type="submit" className="button button--primary" disabled={change.isPending || current === "" || next === ""}>
            {change.isPending ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </section>
  );
}
