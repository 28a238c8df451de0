// Delivers the outbox. Every node runs a dispatcher; PostgreSQL decides which node sends
// which row (claims with FOR UPDATE SKIP LOCKED, see the repository), so with any number of
// nodes each event reaches each channel once.
//
// - Woken by alert platform events (from any node, after the change committed) and by a poll
//   every pollMs, which also picks up rows whose retry time came and rows left by a node that
//   died mid-delivery (their lease ran out).
// - Deliveries run concurrently, up to `concurrency` per node and one per channel across the
//   cluster, each bounded by the request timeout: a slow receiver holds one slot, never the
//   other channels, ingest or the broker (nothing here runs on their paths).
// - A failure worth retrying (see senders.ts) is retried after base × 2^(attempt-1), capped at
//   maxDelayMs, with full jitter in the upper half (so channels that failed together do not
//   retry together), until maxAttempts; then the row is failed.
// - Rate limit: a channel that has sent `rateLimit` deliveries within `rateWindowMs` has
//   further alert events suppressed; once the oldest suppressed one is a window old, one
//   digest ("12 more alerts in the last 5 minutes") takes their place.
//
// - History: finished deliveries and attempts older than RETENTION_DAYS are pruned hourly
//   (and at start) on every node, like the message log's day partitions.
//
// Per-node state: the count of deliveries in flight and their abort signal. A node that dies
// loses neither rows nor claims for good: the rows stay in PostgreSQL, the leases run out.
import { randomUUID } from "node:crypto";
import type { PlatformEvents } from "../../broker/platform-events.ts";
import type { Logger } from "../../logger.ts";
import { BackgroundWork } from "../../lib/background-work.ts";
import type { ClaimedDelivery, NotificationsRepository } from "./notifications.repository.ts";
import { renderNotification } from "./render.ts";
import type { Senders } from "./senders.ts";

export interface DispatcherOptions {
  pollMs: number;
  concurrency: number;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  rateLimit: number;
  rateWindowMs: number;
  dashboardUrl: string;
  /** Days of delivery history kept (RETENTION_DAYS). */
  historyDays: number;
}

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export function retryDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class NotificationDispatcher {
  readonly #background = new BackgroundWork((error) => this.logger.warn({ err: error }, "notification dispatch failed"));
  readonly #stop = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #pumping: Promise<void> | null = null;
  #again = false;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly repository: NotificationsRepository,
    private readonly senders: Senders,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {}

  /** A claim outlives the slowest delivery it covers, so only a dead node's claims run out. */
  get leaseMs(): number {
    return 2 * this.options.timeoutMs + 1_000;
  }

  async start(events: PlatformEvents): Promise<void> {
    this.#unsubscribe = await events.subscribe((event) => {
      if (event.kind.startsWith("alert.")) this.wake();
    });
    this.#background.every(this.options.pollMs, async () => {
      await this.#queueDigests();
      this.wake();
    });
    this.#background.every(PRUNE_INTERVAL_MS, () => this.pruneHistory());
    this.#background.after(0, () => this.pruneHistory());
    this.wake();
  }

  /** Removes the delivery history older than `historyDays`; a failure waits for the next hour. */
  async pruneHistory(): Promise<void> {
    try {
      const removed = await this.repository.pruneHistory(this.options.historyDays);
      if (removed.outbox || removed.attempts) this.logger.info(removed, "pruned the notification delivery history");
    } catch (error) {
      this.logger.warn({ err: error }, "could not prune the notification delivery history; retrying in an hour");
    }
  }

  async stop(): Promise<void> {
    this.#background.stop();
    await this.#unsubscribe?.().catch(() => undefined);
    this.#stop.abort();
    await this.#pumping;
    await Promise.allSettled([...this.#inFlight]);
    this.senders.close();
  }

  /** Claims and starts due deliveries until the slots are full or nothing is due. */
  wake(): void {
    if (this.#stop.signal.aborted) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump()
      .catch((error: unknown) => this.logger.warn({ err: error }, "could not claim notifications"))
      .finally(() => {
        this.#pumping = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  async #pump(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      const free = this.options.concurrency - this.#inFlight.size;
      if (free <= 0) return;
      const claimed = await this.repository.claim(free, this.leaseMs, randomUUID());
      if (claimed.length === 0) return;
      for (const delivery of claimed) {
        const running: Promise<void> = this.#deliver(delivery)
          .catch((error: unknown) => this.logger.warn({ err: error, outboxId: delivery.id }, "could not settle a notification"))
          .finally(() => {
            this.#inFlight.delete(running);
            this.wake();
          });
        this.#inFlight.add(running);
      }
    }
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const { channel } = delivery;
    const base = {
      channelId: channel.id,
      outboxId: delivery.id,
      event: delivery.event,
      alertId: delivery.alertId,
      attempt: delivery.attempt,
    };
    // Digests are never held back: they are what the rate limit sends instead.
    if (delivery.event !== "digest" && delivery.attempt === 1) {
      const sent = await this.repository.sentWithin(channel.id, this.options.rateWindowMs);
      if (sent >= this.options.rateLimit) {
        await this.repository.settle(delivery, {
          ...base,
          outcome: "suppressed",
          responseCode: null,
          response: null,
          error: `rate limit: ${sent} sent within the window; summed up in a digest`,
          durationMs: 0,
        });
        return;
      }
    }
    const notification = renderNotification(String(delivery.id), delivery.event, delivery.payload, this.options.dashboardUrl);
    const result = await this.senders.send(channel, notification, this.#stop.signal);
    const outcome = result.ok ? "delivered" : result.retryable && delivery.attempt < this.options.maxAttempts ? "retrying" : "failed";
    // Aborted by this node's shutdown: due at once, for whichever node runs next.
    const retryInMs = this.#stop.signal.aborted ? 0 : retryDelay(delivery.attempt, this.options.retryBaseMs, this.options.retryMaxMs);
    const settled = await this.repository.settle(
      delivery,
      {
        ...base,
        outcome,
        responseCode: result.responseCode,
        response: result.response,
        error: result.error,
        durationMs: result.durationMs,
      },
      outcome === "retrying" ? retryInMs : undefined,
    );
    if (!settled)
      this.logger.warn({ outboxId: delivery.id }, "a notification's claim lapsed before it was settled; another node took it over");
    const log = { outboxId: delivery.id, channelId: channel.id, event: delivery.event, attempt: delivery.attempt, outcome };
    if (outcome === "delivered") this.logger.debug(log, "notification delivered");
    else this.logger.warn({ ...log, error: result.error, responseCode: result.responseCode }, "notification not delivered");
    if (outcome === "retrying") this.#background.after(retryInMs, async () => this.wake());
  }

  async #queueDigests(): Promise<void> {
    try {
      await this.repository.queueDigests(this.options.rateWindowMs);
    } catch (error) {
      this.logger.warn({ err: error }, "could not queue notification digests");
    }
  }
}
