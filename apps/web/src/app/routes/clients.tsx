import { BrokerClientsView } from "../../features/broker-clients/components/broker-clients-view.tsx";

export function ClientsPage() {
  return (
    <>
      <title>Clients · Fleetwatch</title>
      <h1 className="page-title">Connected clients</h1>
      <p className="muted">
        Every MQTT client connected to any node right now: devices, operators&rsquo; scripts and tools. The list refreshes by itself.
      </p>
      <BrokerClientsView />
    </>
  );
}
