import { describeError } from "../../../lib/api-client.ts";
import { useSession, useSignOut } from "../../../lib/auth/session.ts";

export function AccountMenu() {
  const { data } = useSession();
  const signOut = useSignOut();
  if (!data) return null;
  return (
    <div className="account">
      <span className="account__who">
        <span className="account__email" title={data.user.email}>
          {data.user.email}
        </span>{" "}
        <span className="badge">{data.user.role}</span>
      </span>
      <button type="button" className="button button--quiet" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
        Sign out
      </button>
      {signOut.error ? (
        <span role="alert" className="account__error">
          {describeError(signOut.error)}
        </span>
      ) : null}
    </div>
  );
}
