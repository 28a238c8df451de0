import { useId, useState, type FormEvent } from "react";
import type { ApiToken, ApiTokenCreated } from "@fleetwatch/contracts";
import "../api-tokens.css";
import { ConfirmButton } from "../../../components/confirm-button.tsx";
import { CopyButton } from "../../../components/copy-button.tsx";
import { ActionError, Empty, LoadError, Loading } from "../../../components/query-state.tsx";
import { useApiTokens, useCreateApiToken, useRevokeApiToken } from "../api/api-tokens.ts";

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function Time({ at }: { at: string }) {
  return <time dateTime={at}>{timeFormat.format(new Date(at))}</time>;
}

/** The new token, once: it is stored only as a hash, so this is the only time it can be read. */
function NewToken({ created, onDone }: { created: ApiTokenCreated; onDone: () => void }) {
  const headingId = useId();
  const secretId = useId();
  return (
    <section className="notice tokens__new" aria-labelledby={headingId}>
      <h3 id={headingId} className="tokens__new-title">
        Token “{created.name}” created
      </h3>
      <p>
        Copy it now: it is shown only this once. Send it as <code>Authorization: Bearer &lt;token&gt;</code>, or as the MQTT password.
      </p>
      <div className="tokens__secret">
        <label className="visually-hidden" htmlFor={secretId}>
          New API token
        </label>
        <input
          id={secretId}
          className="code"
          readOnly
          value={created.token}
          spellCheck={false}
          onFocus={(event) => event.target.select()}
        />
        <CopyButton text={created.token} label="the API token" />
      </div>
      <button type="button" className="button" onClick={onDone}>
        Done, I have copied it
      </button>
    </section>
  );
}

function TokenRow({ token }: { token: ApiToken }) {
  const revoke = useRevokeApiToken();
  return (
    <tr>
      <th scope="row">{token.name}</th>
      <td>
        <Time at={token.createdAt} />
      </td>
      <td>{token.lastUsedAt ? <Time at={token.lastUsedAt} /> : <span className="muted">Never</span>}</td>
      <td>
        <ConfirmButton
          title={`Revoke “${token.name}”?`}
          description="Scripts and MQTT clients using it are refused from now on. This cannot be undone."
          confirmLabel="Revoke token"
          disabled={revoke.isPending}
          onConfirm={() => revoke.mutate(token.id)}
        >
          Revoke
        </ConfirmButton>
        <ActionError error={revoke.error} />
      </td>
    </tr>
  );
}

/** The signed-in operator's API tokens: every role may list, create and revoke its own. */
export function ApiTokensSection() {
  const headingId = useId();
  const tokens = useApiTokens();
  const create = useCreateApiToken();
  const [name, setName] = useState("");
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim() },
      {
        onSuccess: (token) => {
          setCreated(token);
          setName("");
        },
      },
    );
  };

  return (
    <section className="tokens" aria-labelledby={headingId}>
      <h2 id={headingId} className="tokens__title">
        Your API tokens
      </h2>
      <p className="muted">For scripts and MQTT clients acting as you, with your role.</p>

      {created ? <NewToken created={created} onDone={() => setCreated(null)} /> : null}

      {tokens.isPending ? (
        <Loading label="Loading API tokens…" />
      ) : tokens.error ? (
        <LoadError what="your API tokens" error={tokens.error} retry={() => void tokens.refetch()} />
      ) : tokens.data.items.length === 0 ? (
        <Empty>You have no API tokens.</Empty>
      ) : (
        <div className="table-frame">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.items.map((token) => (
                <TokenRow key={token.id} token={token} />
              ))}
            </tbody>
          </table>
        </div>
      )}

      <form className="tokens__form" onSubmit={submit}>
        <label className="field">
          <span className="field__label">Token name</span>
          <input
            name="token-name"
            required
            maxLength={100}
            placeholder="e.g. grafana-reader"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <button type="submit" className="button button--primary" disabled={create.isPending || name.trim() === ""}>
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </form>
      <ActionError error={create.error} />
    </section>
  );
}
