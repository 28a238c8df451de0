// Who is on the other end of an MQTT connection. The gate attaches the principal once, at
// CONNECT; every later step (publish/subscribe rules, ingest, presence) reads it here.
import type { Client } from "aedes";
import type { Role } from "@fleetwatch/contracts";

export type Principal = { kind: "device"; deviceId: string } | { kind: "operator"; userId: string; role: Role } | { kind: "anonymous" };

const anonymous: Principal = { kind: "anonymous" };
// A WeakMap rather than a property on aedes' Client: typed, and gone with the client.
const principals = new WeakMap<Client, Principal>();

export function attachPrincipal(client: Client, principal: Principal): void {
  principals.set(client, principal);
}

/**
 * The authenticated principal of a client. `anonymous` for a client that has not completed
 * CONNECT, and for everyone when MQTT_ALLOW_ANONYMOUS lets clients in without credentials.
 */
export function principalOf(client: Client | null | undefined): Principal {
  return (client && principals.get(client)) ?? anonymous;
}

/**
 * A delayed will that the broker publishes after its client left (session-timers.ts) carries
 * the principal that client had, so that the gate checks it with that client's rights (aedes'
 * own will publication hands over the client; this publication has none).
 */
const absentPublishers = new WeakMap<object, Principal>();

export function attachAbsentPublisher(packet: object, principal: Principal): void {
  absentPublishers.set(packet, principal);
}

export function absentPublisherOf(packet: object): Principal | undefined {
  return absentPublishers.get(packet);
}

/** A principal as stored (JSON), or undefined if it is not one. */
export function principalFromJson(value: unknown): Principal | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const stored = value as Record<string, unknown>;
  if (stored.kind === "device" && typeof stored.deviceId === "string") return { kind: "device", deviceId: stored.deviceId };
  if (stored.kind === "operator" && typeof stored.userId === "string" && typeof stored.role === "string")
    return { kind: "operator", userId: stored.userId, role: stored.role as Role };
  if (stored.kind === "anonymous") return anonymous;
  return undefined;
}
