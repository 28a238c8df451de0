import { useId } from "react";
import type { DeviceWithCredentials } from "@fleetwatch/contracts";
import { CopyButton } from "../../../components/copy-button.tsx";
import { brokerAddress, isLoopbackHost } from "../snippets.ts";
import { SnippetTabs } from "./snippet-tabs.tsx";

/** Step 2: the credentials, shown once, and code to paste into the device. */
export function DeviceCredentials({ issued }: { issued: DeviceWithCredentials }) {
  const headingId = useId();
  const { credentials, endpoints, device } = issued;
  const { host } = brokerAddress(endpoints.mqtt);
  const rows: { label: string; value: string }[] = [
    { label: "Client id", value: credentials.clientId },
    { label: "Username", value: credentials.username },
    { label: "Password", value: credentials.password },
    { label: "MQTT endpoint", value: endpoints.mqtt },
    ...(endpoints.mqtts ? [{ label: "MQTT over TLS", value: endpoints.mqtts }] : []),
    { label: "MQTT over WebSocket", value: endpoints.ws },
  ];
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId} className="card__title">
        Credentials of {device.name}
      </h2>
      <p className="notice notice--warning" role="note">
        Copy the password now: it is shown only once. Fleetwatch keeps only a hash of it; if it is lost, rotate the credentials on the
        device page.
      </p>
      <dl className="credentials">
        {rows.map(({ label, value }) => (
          <CredentialRow key={label} label={label} value={value} />
        ))}
      </dl>
      {isLoopbackHost(host) ? (
        <p className="notice notice--warning">
          {host} is how your browser reached Fleetwatch. A device on another machine needs an address it can reach: use this server's
          network address, or set PUBLIC_HOST on the server.
        </p>
      ) : null}
      <h3 className="register__subtitle">Connect it</h3>
      <SnippetTabs target={{ deviceId: device.id, credentials, endpoints }} />
    </section>
  );
}

function CredentialRow({ label, value }: { label: string; value: string }) {
  const inputId = useId();
  return (
    <div className="credentials__row">
      <dt>
        <label htmlFor={inputId}>{label}</label>
      </dt>
      <dd>
        {/* Read-only input: selectable and focusable, so copying by hand works without the clipboard API. */}
        <input
          id={inputId}
          className="credentials__value"
          readOnly
          value={value}
          spellCheck={false}
          onFocus={(event) => event.currentTarget.select()}
        />
        <CopyButton text={value} label={label.toLowerCase()} />
      </dd>
    </div>
  );
}
