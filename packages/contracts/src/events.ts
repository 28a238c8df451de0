// Platform events, pushed live: each is published as JSON on the broker under
// platformEventTopic(kind) (topics.ts), which mqemitter-redis carries to every server node.
// The browser's live channel forwards them; the schemas here are the wire format.
import { Type, type Static } from "typebox";
import { Alert } from "./alerts.ts";
import { PresenceEvent } from "./presence.ts";
import { Command } from "./commands.ts";

export const PresenceChanged = Type.Object({ kind: Type.Literal("presence"), ...PresenceEvent.properties }, { $id: "PresenceChanged" });
export type PresenceChanged = Static<typeof PresenceChanged>;

const alertEvent = <K extends string>(kind: K, id: string) => Type.Object({ kind: Type.Literal(kind), alert: Alert }, { $id: id });
export const AlertRaised = alertEvent("alert.raised", "AlertRaised");
export type AlertRaised = Static<typeof AlertRaised>;
export const AlertAcknowledged = alertEvent("alert.acknowledged", "AlertAcknowledged");
export type AlertAcknowledged = Static<typeof AlertAcknowledged>;
export const AlertResolved = alertEvent("alert.resolved", "AlertResolved");
export type AlertResolved = Static<typeof AlertResolved>;

/** A rule was created, changed or deleted: server nodes reload their rules. */
export const AlertRuleChanged = Type.Object(
  {
    kind: Type.Literal("alert-rule.changed"),
    ruleId: Type.Integer(),
    change: Type.Union([Type.Literal("created"), Type.Literal("updated"), Type.Literal("deleted")]),
  },
  { $id: "AlertRuleChanged" },
);
export type AlertRuleChanged = Static<typeof AlertRuleChanged>;

/** A command to a device changed status (sent, delivered, responded, expired, ...). */
export const CommandUpdated = Type.Object({ kind: Type.Literal("command.updated"), command: Command }, { $id: "CommandUpdated" });
export type CommandUpdated = Static<typeof CommandUpdated>;

export const PlatformEvent = Type.Union([PresenceChanged, AlertRaised, AlertAcknowledged, AlertResolved, AlertRuleChanged, CommandUpdated]);
export type PlatformEvent = Static<typeof PlatformEvent>;
export type PlatformEventKind = PlatformEvent["kind"];
