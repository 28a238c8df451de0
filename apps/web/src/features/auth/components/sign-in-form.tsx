import { useId, useState, type FormEvent } from "react";
import { ApiRequestError, describeError } from "../../../lib/api-client.ts";
import { useSignIn } from "../../../lib/auth/session.ts";

function signInError(error: unknown): string {
  if (error instanceof ApiRequestError) {
    if (error.status === 401) return "Wrong email or password.";
    if (error.status === 429) return "Too many sign-in attempts. Wait a few minutes, then try again.";
  }
  return `Could not sign in: ${describeError(error)}.`;
}

export function SignInForm() {
  const headingId = useId();
  const signIn = useSignIn();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email: email.trim(), password });
  };

  return (
    <section className="card sign-in" aria-labelledby={headingId}>
      <h1 id={headingId} className="page-title">
        Sign in to Fleetwatch
      </h1>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span className="field__label">Email</span>
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            autoFocus
          />
        </label>
        <label className="field">
          <span className="field__label">Password</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {signIn.error ? (
          <p className="notice notice--error" role="alert">
            {signInError(signIn.error)}
          </p>
        ) : null}
        <button type="submit" className="button button--primary" disabled={signIn.isPending}>
          {signIn.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="card__meta">
        The first admin's email and password are set with ADMIN_EMAIL and ADMIN_PASSWORD, or printed once in the server log on the first
        start.
      </p>
    </section>
  );
}
