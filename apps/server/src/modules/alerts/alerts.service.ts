// Alerts: offline alerts follow presence; threshold rules are evaluated on telemetry as it
// arrives. Every change is pushed live as a platform event.
//
// Threshold evaluation: the readings of each telemetry message stored by this node, as
// ingest parsed them (the shared payload format, parseTelemetry), are compared with the
// enabled rules for their metric that apply to the device (by id, or by one of its tags).
// A device's messages are evaluated one after another, in the order they arrived. When the
// condition starts to hold, its start time is stored (alert_rule_states), so a hold
// duration survives restarts; the alert is raised once it has held for the duration (right
// away on a reading, or by the sweep when no reading comes). A reading that no longer
// satisfies the condition forgets the start time and resolves the open alert.
//
// Per-node state, and why it is safe:
// - The enabled rules, reloaded when any node changes a rule (alert-rule.changed event) and
//   every RULE_RELOAD_MS as a backstop.
// - Device tags for tag rules, cached for TAG_CACHE_MS: a tag change applies within that time.
// - "Known clear" (rule, device) pairs, so a normal reading costs no database round trip. An
//   entry lives for CLEAR_CACHE_MS: if another node raised that alert meanwhile (the device
//   moved), a clearing reading here resolves it at most that much later.
import {
  type Alert,
  type AlertListQuery,
  type AlertRule,
  type Comparison,
  type CreateAlertRule,
  type PlatformEvent,
  type Reading,
  type UpdateAlertRule,
} from "@fleetwatch/contracts";
import type { PlatformEvents } from "../../broker/platform-events.ts";
import type { Logger } from "../../logger.ts";
import type { AlertsRepository } from "./alerts.repository.ts";
import type { DevicesRepository } from "../devices/devices.repository.ts";
import { ApiProblem } from "../../http/errors.ts";
import { BackgroundWork } from "../../lib/background-work.ts";

const RULE_RELOAD_MS = 30_000;
const TAG_CACHE_MS = 30_000;
const TAG_CACHE_MAX = 10_000;
const CLEAR_CACHE_MS = 10_000;
const CLEAR_CACHE_MAX = 100_000;

const ruleNotFound = (id: number): never => {
  throw new ApiProblem(404, `no alert rule ${id}`);
};

export function compare(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
    case "==":
      return value === threshold;
    case "!=":
      return value !== threshold;
  }
}

export class AlertsService {
  #rulesByMetric = new Map<string, AlertRule[]>();
  readonly #tags = new Map<string, { tags: string[] | null; until: number }>();
  readonly #knownClear = new Map<string, number>();
  #unsubscribe: (() => Promise<void>) | undefined;
  #events: PlatformEvents | undefined;
  #sweeping: Promise<void> = Promise.resolve();
  /** Background timers, and one queue per device for its readings. */
  readonly #background = new BackgroundWork((error, deviceId) =>
    this.logger.warn({ err: error, deviceId }, "could not evaluate an alert rule"),
  );

  constructor(
    private readonly repository: AlertsRepository,
    /** The registry: rule targets and device tags. */
    private readonly devices: Pick<DevicesRepository, "exists" | "tagsOf">,
    private readonly logger: Logger,
    private readonly options: { sweepMs: number },
  ) {}

  /** Loads the rules and follows rule changes; announces alert changes as platform events from now on. */
  async start(events: PlatformEvents): Promise<void> {
    this.#events = events;
    await this.reloadRules();
    this.#unsubscribe = await events.subscribe((event) => this.#onEvent(event));
    this.#background.every(this.options.sweepMs, () => this.sweep());
    this.#background.every(RULE_RELOAD_MS, () => this.reloadRules());
  }

  async stop(): Promise<void> {
    this.#background.stop();
    await this.#unsubscribe?.().catch(() => undefined);
    await this.#background.drained();
    await this.#sweeping;
  }

  // ---- queries and commands (HTTP) ---------------------------------------------------

  list(query: AlertListQuery) {
    return this.repository.list(query);
  }

  /** Acknowledges an active alert once; an acknowledged one is returned as it is. */
  async acknowledge(id: number, by: string | null): Promise<Alert> {
    const result = await this.repository.acknowledge(id, by);
    if (result.outcome === "not-found") throw new ApiProblem(404, `no alert ${id}`);
    if (result.outcome === "resolved") throw new ApiProblem(409, `alert ${id} is already resolved`);
    if (result.outcome === "acknowledged") this.#publish({ kind: "alert.acknowledged", alert: result.alert });
    return result.alert;
  }

  listRules() {
    return this.repository.listRules();
  }

  async getRule(id: number): Promise<AlertRule> {
    return (await this.repository.getRule(id)) ?? ruleNotFound(id);
  }

  async createRule(input: CreateAlertRule): Promise<AlertRule> {
    const rule = {
      name: input.name,
      deviceId: input.deviceId ?? null,
      tag: input.tag ?? null,
      metric: input.metric,
      comparison: input.comparison,
      threshold: input.threshold,
      durationMs: input.durationMs ?? 0,
      severity: input.severity ?? "warning",
      enabled: input.enabled ?? true,
    };
    await this.#validateTarget(rule.deviceId, rule.tag);
    const created = await this.repository.createRule(rule);
    await this.#ruleChanged(created.id, "created");
    return created;
  }

  async updateRule(id: number, changes: UpdateAlertRule): Promise<AlertRule> {
    const { id: _id, createdAt: _created, updatedAt: _updated, ...fields } = await this.getRule(id);
    const next = { ...fields, ...changes };
    await this.#validateTarget(next.deviceId, next.tag);
    const updated = (await this.repository.updateRule(id, next)) ?? ruleNotFound(id);
    this.#publishResolved(updated.resolved);
    await this.#ruleChanged(id, "updated");
    return updated.rule;
  }

  async deleteRule(id: number): Promise<void> {
    const deleted = (await this.repository.deleteRule(id)) ?? ruleNotFound(id);
    this.#publishResolved(deleted.resolved);
    await this.#ruleChanged(id, "deleted");
  }

  // ---- offline alerts ----------------------------------------------------------------

  /** Brings offline alerts in line with presence: for these devices, or all (the sweep). */
  async syncOffline(deviceIds: string[] | null): Promise<void> {
    const { raised, resolved } = await this.repository.syncOffline(deviceIds);
    for (const alert of raised) this.#publish({ kind: "alert.raised", alert });
    this.#publishResolved(resolved);
  }

  // ---- evaluation --------------------------------------------------------------------

  /** Raises due threshold alerts and repairs offline alerts; every node runs it, each change happens once. */
  sweep(): Promise<void> {
    this.#sweeping = this.#sweeping.then(async () => {
      try {
        for (const alert of await this.repository.raiseDue()) this.#publish({ kind: "alert.raised", alert });
        await this.syncOffline(null);
      } catch (error) {
        this.logger.warn({ err: error }, "alert sweep failed");
      }
    });
    return this.#sweeping;
  }

  async reloadRules(): Promise<void> {
    try {
      const rules = await this.repository.listRules(true);
      const byMetric = new Map<string, AlertRule[]>();
      for (const rule of rules) byMetric.set(rule.metric, [...(byMetric.get(rule.metric) ?? []), rule]);
      this.#rulesByMetric = byMetric;
    } catch (error) {
      this.logger.warn({ err: error }, "could not load alert rules");
    }
  }

  /**
   * The readings of a telemetry message a device published through this node (ingest hands
   * them over once stored, so each message is evaluated once in the whole cluster).
   */
  evaluate(deviceId: string, readings: readonly Reading[]): void {
    if (this.#rulesByMetric.size === 0) return;
    const checks: { rule: AlertRule; value: number }[] = [];
    for (const reading of readings) {
      for (const rule of this.#rulesByMetric.get(reading.metric) ?? []) {
        if (rule.deviceId === null || rule.deviceId === deviceId) checks.push({ rule, value: reading.value });
      }
    }
    if (checks.length === 0) return;
    this.#background.serialize(deviceId, async () => {
      for (const { rule, value } of checks) {
        try {
          if (rule.tag !== null && !(await this.#tagsOf(deviceId))?.includes(rule.tag)) continue;
          await this.#evaluate(rule, deviceId, value);
        } catch (error) {
          this.logger.warn({ err: error, ruleId: rule.id, deviceId }, "could not evaluate an alert rule");
        }
      }
    });
  }

  async #evaluate(rule: AlertRule, deviceId: string, value: number): Promise<void> {
    const key = `${rule.id}:${deviceId}`;
    if (!compare(value, rule.comparison, rule.threshold)) {
      const clearUntil = this.#knownClear.get(key);
      if (clearUntil !== undefined && clearUntil > Date.now()) return;
      this.#publishResolved(await this.repository.cleared(rule.id, deviceId));
      if (this.#knownClear.size >= CLEAR_CACHE_MAX) this.#knownClear.clear();
      this.#knownClear.set(key, Date.now() + CLEAR_CACHE_MS);
      return;
    }
    this.#knownClear.delete(key);
    if (await this.repository.violated(rule, deviceId, value)) {
      for (const alert of await this.repository.raiseDue({ ruleId: rule.id, deviceId })) this.#publish({ kind: "alert.raised", alert });
    }
  }

  async #tagsOf(deviceId: string): Promise<string[] | null> {
    const cached = this.#tags.get(deviceId);
    if (cached && cached.until > Date.now()) return cached.tags;
    const tags = await this.devices.tagsOf(deviceId);
    if (this.#tags.size >= TAG_CACHE_MAX) this.#tags.clear();
    this.#tags.set(deviceId, { tags, until: Date.now() + TAG_CACHE_MS });
    return tags;
  }

  async #validateTarget(deviceId: string | null, tag: string | null): Promise<void> {
    if ((deviceId === null) === (tag === null)) throw new ApiProblem(400, "a rule applies to exactly one of deviceId and tag");
    if (deviceId !== null && !(await this.devices.exists(deviceId))) throw new ApiProblem(400, `no device "${deviceId}"`);
  }

  #onEvent(event: PlatformEvent): void {
    if (event.kind !== "alert-rule.changed") return;
    for (const key of this.#knownClear.keys()) if (key.startsWith(`${event.ruleId}:`)) this.#knownClear.delete(key);
    void this.reloadRules();
  }

  /** This node applies the change before answering; the others reload on the event. */
  async #ruleChanged(ruleId: number, change: "created" | "updated" | "deleted"): Promise<void> {
    await this.reloadRules();
    this.#publish({ kind: "alert-rule.changed", ruleId, change });
  }

  #publish(event: PlatformEvent): void {
    this.#events?.publish(event);
  }

  #publishResolved(alerts: Alert[]): void {
    for (const alert of alerts) this.#publish({ kind: "alert.resolved", alert });
  }
}
