// What the transport and the CONNECT tell about a connection that aedes does not keep: how it
// came in, the keepalive it asked for (aedes keeps only a derived timer), and how many PUBLISH
// packets were sent to it, which the client registry (client-registry.ts) reads; and how long
// its end deferred its will, which presence reads.
import type { Client } from "aedes";
import type { BROKER_CLIENT_TRANSPORTS } from "@fleetwatch/contracts";

export type TransportKind = (typeof BROKER_CLIENT_TRANSPORTS)[number];

export interface ConnectionFacts {
  transport: TransportKind;
  keepalive: number;
  sent: number;
  /**
   * How long the will of this ended connection is deferred, in seconds: min(Will Delay
   * Interval, Session Expiry Interval) when it ended without DISCONNECT 0x00 and with a
   * delayed will; 0 otherwise (no will, or one published at once). Known from the moment aedes
   * reports the disconnect ('clientDisconnect'): session-timers.ts records it just before.
   */
  willDelaySeconds: number;
}

const facts = new WeakMap<Client, ConnectionFacts>();

function factsOf(client: Client): ConnectionFacts {
  let known = facts.get(client);
  if (!known) {
    known = { transport: "tcp", keepalive: 0, sent: 0, willDelaySeconds: 0 };
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

/** Called by the session timers when aedes hands over a delayed will (its `delayWill` option). */
export function recordWillDelay(client: Client, seconds: number): void {
  factsOf(client).willDelaySeconds = seconds;
}
