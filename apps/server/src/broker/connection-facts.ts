// What the transport and the CONNECT tell about a connection that aedes does not keep: how it
// came in, the keepalive it asked for (aedes keeps only a derived timer), and how many PUBLISH
// packets were sent to it. The client registry (client-registry.ts) reads them.
import type { Client } from "aedes";
import type { BROKER_CLIENT_TRANSPORTS } from "@fleetwatch/contracts";

export type TransportKind = (typeof BROKER_CLIENT_TRANSPORTS)[number];

type Deliver = (packet: { qos: number }, done: () => void) => void;

interface ConnectionFacts {
  transport: TransportKind;
  keepalive: number;
  sent: number;
}

const facts = new WeakMap<Client, ConnectionFacts>();

function factsOf(client: Client): ConnectionFacts {
  let known = facts.get(client);
  if (!known) {
    known = { transport: "tcp", keepalive: 0, sent: 0 };
    facts.set(client, known);
  }
  return known;
}

export function connectionFacts(client: Client): Readonly<ConnectionFacts> {
  return factsOf(client);
}

/**
 * Called by the transport for every connection it hands to aedes: remembers how the client
 * came in, and counts the PUBLISH packets aedes sends it. aedes gives each client its own
 * deliver0/deliverQoS in its constructor, and subscriptions capture them later, so wrapping
 * them here sees every delivery, a restored session's included.
 */
export function trackConnection(client: Client, transport: TransportKind): void {
  const known = factsOf(client);
  known.transport = transport;
  const delivering = client as unknown as Record<"deliver0" | "deliverQoS", Deliver>;
  const deliver0 = delivering.deliver0;
  const deliverQoS = delivering.deliverQoS;
  delivering.deliver0 = (packet, done) => {
    known.sent += 1;
    deliver0(packet, done);
  };
  delivering.deliverQoS = (packet, done) => {
    // (deliverQoS hands a QoS 0 message to deliver0, which counted it.)
    if (packet.qos > 0) known.sent += 1;
    deliverQoS(packet, done);
  };
}

/** Called from preConnect with the CONNECT's keepalive. */
export function recordKeepalive(client: Client, keepalive: number | undefined): void {
  factsOf(client).keepalive = keepalive ?? 0;
}
