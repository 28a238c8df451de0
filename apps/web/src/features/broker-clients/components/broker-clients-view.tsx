import { useId, useRef, useState } from "react";
import "../broker-clients.css";
import { Link } from "react-router";
import {
  BROKER_CLIENT_KINDS,
  BROKER_CLIENT_PROTOCOLS,
  BROKER_CLIENT_TRANSPORTS,
  type BrokerClient,
  type BrokerClientsQuery,
} from "@fleetwatch/contracts";
import { ActionError, Empty, LoadError, Loading } from "../../../components/query-state.tsx";
import { FormField } from "../../../components/form-field.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { useCan } from "../../../lib/auth/permissions.ts";
import { useBrokerClients, useDisconnectClient } from "../api/broker-clients.ts";

const PAGE_SIZE = 50;
const protocolNames: Record<BrokerClient["protocolVersion"], string> = { 3: "MQTT 3.1", 4: "MQTT 3.1.1", 5: "MQTT 5" };
const transportNames: Record<BrokerClient["transport"], string> = { tcp: "TCP", tls: "TLS", websocket: "WebSocket" };

type Filters = Required<Pick<BrokerClientsQuery, "search">> & {
  kind: BrokerClientsQuery["kind"] | "";
  transport: BrokerClientsQuery["transport"] | "";
  nodeId: string;
  protocolVersion: string;
};
const noFilters: Filters = { search: "", kind: "", transport: "", nodeId: "", protocolVersion: "" };

function toQuery(filters: Filters, offset: number): BrokerClientsQuery {
  return {
    ...(filters.search.trim() ? { search: filters.search.trim() } : {}),
    ...(filters.kind ? { kind: filters.kind } : {}),
    ...(filters.transport ? { transport: filters.transport } : {}),
    ...(filters.nodeId ? { nodeId: filters.nodeId } : {}),
    ...(filters.protocolVersion ? { protocolVersion: Number(filters.protocolVersion) as BrokerClient["protocolVersion"] } : {}),
    limit: PAGE_SIZE,
    offset,
  };
}

/** Who the client is: a link to its device, or the operator / anonymous. */
function Identity({ client }: { client: BrokerClient }) {
  if (client.kind === "device" && client.deviceId)
    return <Link to={`/devices/${encodeURIComponent(client.deviceId)}`}>Device {client.deviceId}</Link>;
  if (client.kind === "operator") return <span>Operator (API token)</span>;
  return <span className="muted">Anonymous</span>;
}

function DisconnectButton({ client }: { client: BrokerClient }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const disconnect = useDisconnectClient();
  const choose = (session: "keep" | "clear") => {
    dialog.current?.close();
    disconnect.mutate({ clientId: client.clientId, session });
  };
  return (
    <>
      <button
        type="button"
        className="button button--danger-quiet"
        disabled={disconnect.isPending}
        onClick={() => dialog.current?.showModal()}
        aria-label={`Disconnect ${client.clientId}`}
      >
        Disconnect
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby={titleId}>
        <h2 id={titleId} className="dialog__title">
          Disconnect {client.clientId}?
        </h2>
        <div className="dialog__body">
          <p>
            Its connection on node <code>{client.nodeId}</code> is closed now, and its Last Will is published. A device that reconnects by
            itself will be back shortly; disable it on its page to keep it out.
          </p>
          <p>
            <strong>Keep session</strong>: a persistent session (clean session off) keeps its subscriptions and queued QoS 1/2 messages for
            its next connection. <strong>Clear session</strong>: they are discarded, as a clean session&rsquo;s are.
          </p>
        </div>
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => dialog.current?.close()} autoFocus>
            Cancel
          </button>
          <button type="button" className="button button--danger" onClick={() => choose("keep")}>
            Disconnect, keep session
          </button>
          <button type="button" className="button button--danger" onClick={() => choose("clear")}>
            Disconnect, clear session
          </button>
        </div>
      </dialog>
      <ActionError error={disconnect.error} />
    </>
  );
}

function ClientRow({ client, canDisconnect }: { client: BrokerClient; canDisconnect: boolean }) {
  return (
    <tr>
      <th scope="row" data-label="Client id" className="clients-table__id">
        <code>{client.clientId}</code>
      </th>
      <td data-label="Who">
        <Identity client={client} />
      </td>
      <td data-label="Node">
        <code className="clients-table__node">{client.nodeId}</code>
      </td>
      <td data-label="Connection">
        {transportNames[client.transport]} · {protocolNames[client.protocolVersion]}
      </td>
      <td data-label="Address">{client.remoteAddress ?? "—"}</td>
      <td data-label="Since">{formatDateTime(client.connectedAt)}</td>
      <td data-label="Session">
        {client.cleanSession ? "clean" : "persistent"} · keepalive {client.keepalive ? `${client.keepalive} s` : "off"}
      </td>
      <td data-label="Subscriptions">
        {client.subscriptions.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="clients-table__subscriptions">
            {client.subscriptions.map((subscription) => (
              <li key={subscription.topic}>
                <code>{subscription.topic}</code> <span className="muted">QoS {subscription.qos}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td data-label="Messages" className="clients-table__numbers">
        {client.messagesIn} in · {client.messagesOut} out
      </td>
      {canDisconnect ? (
        <td data-label="" className="clients-table__actions">
          <DisconnectButton client={client} />
        </td>
      ) : null}
    </tr>
  );
}

export function BrokerClientsView() {
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [offset, setOffset] = useState(0);
  const clients = useBrokerClients(toQuery(filters, offset));
  const canDisconnect = useCan("disconnect-clients");
  const tableId = useId();
  const change = (next: Partial<Filters>) => {
    setFilters({ ...filters, ...next });
    setOffset(0);
  };
  const page = clients.data;
  const nodes = page?.nodes ?? [];

  return (
    <>
      <form className="clients-filters" role="search" aria-label="Filter clients" onSubmit={(event) => event.preventDefault()}>
        <FormField label="Client id starts with" className="clients-filters__search">
          {(control) => (
            <input {...control} type="search" value={filters.search} maxLength={200} onChange={(e) => change({ search: e.target.value })} />
          )}
        </FormField>
        <FormField label="Who">
          {(control) => (
            <select {...control} value={filters.kind} onChange={(e) => change({ kind: e.target.value as Filters["kind"] })}>
              <option value="">Everyone</option>
              {BROKER_CLIENT_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {kind === "device" ? "Devices" : kind === "operator" ? "Operators" : "Anonymous"}
                </option>
              ))}
            </select>
          )}
        </FormField>
        <FormField label="Transport">
          {(control) => (
            <select {...control} value={filters.transport} onChange={(e) => change({ transport: e.target.value as Filters["transport"] })}>
              <option value="">Any</option>
              {BROKER_CLIENT_TRANSPORTS.map((transport) => (
                <option key={transport} value={transport}>
                  {transportNames[transport]}
                </option>
              ))}
            </select>
          )}
        </FormField>
        <FormField label="Protocol">
          {(control) => (
            <select {...control} value={filters.protocolVersion} onChange={(e) => change({ protocolVersion: e.target.value })}>
              <option value="">Any</option>
              {BROKER_CLIENT_PROTOCOLS.map((version) => (
                <option key={version} value={version}>
                  {protocolNames[version]}
                </option>
              ))}
            </select>
          )}
        </FormField>
        <FormField label="Node">
          {(control) => (
            <select {...control} value={filters.nodeId} onChange={(e) => change({ nodeId: e.target.value })}>
              <option value="">All nodes</option>
              {nodes.map((node) => (
                <option key={node} value={node}>
                  {node}
                </option>
              ))}
            </select>
          )}
        </FormField>
      </form>

      {clients.error && !page ? (
        <LoadError what="the connected clients" error={clients.error} retry={() => void clients.refetch()} />
      ) : !page ? (
        <Loading label="Loading clients…" />
      ) : page.items.length === 0 ? (
        <Empty>
          <p>No client connected{filters === noFilters ? "" : " matches these filters"}.</p>
        </Empty>
      ) : (
        <>
          <p className="muted clients-summary" role="status">
            {page.offset + 1}–{page.offset + page.items.length} of {page.total} connected client{page.total === 1 ? "" : "s"}
          </p>
          <div className="table-frame">
            <table className="table clients-table" aria-labelledby={tableId}>
              <caption id={tableId} className="visually-hidden">
                Connected clients
              </caption>
              <thead>
                <tr>
                  <th scope="col">Client id</th>
                  <th scope="col">Who</th>
                  <th scope="col">Node</th>
                  <th scope="col">Connection</th>
                  <th scope="col">Address</th>
                  <th scope="col">Since</th>
                  <th scope="col">Session</th>
                  <th scope="col">Subscriptions</th>
                  <th scope="col">Messages</th>
                  {canDisconnect ? (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {page.items.map((client) => (
                  <ClientRow key={client.clientId} client={client} canDisconnect={canDisconnect} />
                ))}
              </tbody>
            </table>
          </div>
          <nav className="clients-pager" aria-label="Pages">
            <button type="button" className="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
              Previous page
            </button>
            <button
              type="button"
              className="button"
              disabled={page.offset + page.items.length >= page.total}
              onClick={() => setOffset(offset + PAGE_SIZE)}
            >
              Next page
            </button>
          </nav>
        </>
      )}
    </>
  );
}
