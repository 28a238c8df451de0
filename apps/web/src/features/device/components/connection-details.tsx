import { useId } from "react";
import { CopyButton } from "../../../components/copy-button.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { LoadError, Loading } from "../../../components/query-state.tsx";
import { useEndpoints } from "../api/get-endpoints.ts";
import { useLiveConnection } from "../api/get-live-connection.ts";
import { useCan } from "../../../lib/auth/permissions.ts";

const protocolNames = { 3: "MQTT 3.1", 4: "MQTT 3.1.1", 5: "MQTT 5" } as const;
const transportNames = { tcp: "TCP", tls: "TLS", websocket: "WebSocket" } as const;

/** How the device is connected now (the connected-clients registry): protocol, transport, node. */
function LiveConnection({ deviceId }: { deviceId: string }) {
  const live = useLiveConnection(deviceId);
  let text: string;
  if (live.error) text = "unknown (could not load)";
  else if (live.data === undefined) text = "…";
  else if (live.data === null) text = "not connected";
  else
    text = `${protocolNames[live.data.protocolVersion]} over ${transportNames[live.data.transport]}, on node ${live.data.nodeId}, since ${formatDateTime(live.data.connectedAt)}`;
  return (
    <div className="details__row">
      <dt>Live connection</dt>
      <dd data-testid="live-connection">{text}</dd>
    </div>
  );
}

/** host and port of an endpoint URL such as mqtt://host:1883. */
function hostAndPort(endpoint: string): { host: string; port: string } | null {
  try {
    const url = new URL(endpoint);
    return { host: url.hostname, port: url.port };
  } catch {
    return null;
  }
}

function Row({ label, value, copy }: { label: string; value: string; copy?: boolean }) {
  return (
    <div className="details__row">
      <dt>{label}</dt>
      <dd>
        <code>{value}</code>
        {copy ? <CopyButton text={value} label={label} /> : null}
      </dd>
    </div>
  );
}

export function ConnectionDetails({ deviceId }: { deviceId: string }) {
  const headingId = useId();
  const endpoints = useEndpoints();
  const canSeeClients = useCan("view-clients");
  const tcp = endpoints.data ? hostAndPort(endpoints.data.mqtt) : null;

  return (
    <section className="card device-section" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Connection
        </h2>
      </div>
      {endpoints.error ? (
        <LoadError what="the broker's endpoints" error={endpoints.error} retry={() => void endpoints.refetch()} />
      ) : !endpoints.data ? (
        <Loading label="Loading endpoints…" />
      ) : (
        <dl className="details">
          {canSeeClients ? <LiveConnection deviceId={deviceId} /> : null}
          {tcp ? (
            <>
              <Row label="MQTT host" value={tcp.host} copy />
              <Row label="MQTT port" value={tcp.port} />
            </>
          ) : null}
          <Row label="MQTT URL" value={endpoints.data.mqtt} />
          {endpoints.data.mqtts ? <Row label="MQTT over TLS" value={endpoints.data.mqtts} /> : null}
          <Row label="MQTT over WebSocket" value={endpoints.data.ws} />
          <Row label="Client id" value={deviceId} copy />
          <Row label="Username" value={deviceId} />
          <div className="details__row">
            <dt>Password</dt>
            <dd className="muted">Shown once when issued; only a hash is stored. Rotate the credentials to issue a new one.</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
