// What the signed-in operator may do, in one place, so a page never shows a button whose
// request the server would refuse. The server still checks every request (http/api.ts).
import type { Role } from "@fleetwatch/contracts";
import { useSession } from "./session.ts";

export type Action =
  /** Register, edit, rotate, disable and delete devices; manage alert rules; acknowledge alerts. */
  | "manage-fleet"
  /** Create, edit and delete operator accounts. */
  | "manage-users"
  /** Add, change, test and delete notification channels. */
  | "manage-notifications"
  /** Share a dashboard with every signed-in user. */
  | "share-dashboards"
  /** See the connected MQTT clients (the Clients page). */
  | "view-clients"
  /** Close an MQTT client's connection, keeping or clearing its session. */
  | "disconnect-clients";

const allowed: Record<Role, ReadonlySet<Action>> = {
  admin: new Set<Action>([
    "manage-fleet",
    "manage-users",
    "manage-notifications",
    "share-dashboards",
    "view-clients",
    "disconnect-clients",
  ]),
  operator: new Set<Action>(["manage-fleet", "share-dashboards", "view-clients"]),
  viewer: new Set<Action>(),
};

export function useCan(action: Action): boolean {
  const role = useSession().data?.user.role;
  return role !== undefined && allowed[role].has(action);
}
