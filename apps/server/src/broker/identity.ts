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
