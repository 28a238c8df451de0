// A device's presence over a time range as periods: online, offline (with the reason it went
// offline) or unknown (before its first recorded connection), and the uptime they add up to.
import type { PresenceHistory, PresenceReason } from "@fleetwatch/contracts";

export interface PresencePeriod {
  state: "online" | "offline" | "unknown";
  /** Epoch ms, inside the range. */
  from: number;
  to: number;
  /** Why the period began (the event that started it); null for an unknown start. */
  reason: PresenceReason | null;
}

export interface PresenceSummary {
  periods: PresencePeriod[];
  /** Share of the known time spent online, 0 to 1; null when nothing is known of the range. */
  uptime: number | null;
  /** The server returned as many events as were asked for: older changes in the range are missing. */
  truncated: boolean;
}

/** `history` is the answer for [from, to) with `before`; `limit` the most events asked for. */
export function presencePeriods(history: PresenceHistory, range: { from: number; to: number }, limit: number): PresenceSummary {
  const events = [...history.items].reverse();
  const truncated = history.items.length >= limit;
  const periods: PresencePeriod[] = [];
  let state: PresencePeriod["state"] = truncated || !history.before ? "unknown" : history.before.online ? "online" : "offline";
  let reason: PresenceReason | null = truncated ? null : (history.before?.reason ?? null);
  let start = range.from;
  for (const event of events) {
    const at = Math.min(Math.max(Date.parse(event.at), range.from), range.to);
    const next = event.online ? "online" : "offline";
    if (next === state) continue;
    if (at > start) periods.push({ state, from: start, to: at, reason });
    state = next;
    reason = event.reason;
    start = at;
  }
  if (range.to > start) periods.push({ state, from: start, to: range.to, reason });

  let online = 0;
  let known = 0;
  for (const period of periods) {
    if (period.state === "unknown") continue;
    known += period.to - period.from;
    if (period.state === "online") online += period.to - period.from;
  }
  return { periods, uptime: known > 0 ? online / known : null, truncated };
}
