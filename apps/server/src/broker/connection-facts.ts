// What the transport and the CONNECT tell about a connection that aedes does not keep: how it
// came in, the keepalive it asked for (aedes keeps only a derived timer), and how many PUBLISH
// packets were sent to it. The client registry (client-registry.ts) reads them.
import type { Client } from "aedes";
import type { BROKER_CLIENT_TRANSPORTS } from "@fleetwatch/contracts";

export type TransportKind = (typeof BROKER_CLIENT_TRANSPORTS)[number];

export interface ConnectionFacts {
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
 * came in. Returns the connection's facts, whose `sent` the transport's one wrapper of aedes'
 * deliveries counts (transport.ts, countDeliveries).
 */
export function trackConnection(client: Client, transport: TransportKind): ConnectionFacts {
  const known = factsOf(client);
  known.transport = transport;
  return known;
}

/** Called from preConnect with the CONNECT's keepalive. */
export function recordKeepalive(client: Client, keepalive: number | undefined): void {
  factsOf(client).keepalive = keepalive ?? 0;
}
