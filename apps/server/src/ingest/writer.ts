// Group commit: messages from every client are gathered into one transaction, committed
// when the batch is full or a short linger has passed. A QoS 1/2 message waits for its
// batch's commit before the broker acknowledges it; QoS 0 messages (and Last Wills, which
// nobody acknowledges) wait in a bounded buffer and never hold anyone up.
//
// Two batches may be committing at once, so that the next batch fills and travels while the
// database commits the previous one (with one at a time, measured under the ingest
// benchmark, the server sat idle a third of the time waiting for commits). Batches still
// settle in queue order, so acknowledgements leave in the order the PUBLISH packets came
// [MQTT-4.6.0-2]. A batch that claims or releases QoS 2 keys commits alone: its key
// releases must be committed before a later message reuses the packet id [MQTT-2.3.1-2].
//
// A failed commit is one of two things:
// - an outage (the connection was lost, a timeout, the server is unavailable or busy): the
//   batch's acknowledged-on-commit messages fail with it (the broker then drops their clients
//   without an ack, and the devices retry), buffered QoS 0 messages are kept for the next
//   attempt up to the bound, and the writer retries with a backoff until the database answers;
// - anything else (a data error, a constraint): some row is bad. Keeping it at the head of the
//   queue would stall every device behind it forever, so the batch is split in halves until
//   the offending rows stand alone; the rest commits, and only the offenders are refused (a
//   QoS 1/2 message rejects with IngestRefusedError, a QoS 0 message or will is dropped and
//   counted by reason). Mistaking a passing fault for a bad row costs little: a refused QoS 1/2
//   message was not acknowledged, so its device sends it again.
//
// Nothing here is needed for correctness across nodes: each node batches its own clients'
// messages, and everything durable is in PostgreSQL.
import pg from "pg";
import type { Logger } from "../logger.ts";
import { isOutage } from "../db/outage.ts";
import { writeBatch, type BatchItem, type IngestRow, type Qos2Release } from "./ingest.repository.ts";

export interface WriterOptions {
  batchMax: number;
  lingerMs: number;
  /** Most unacknowledged messages (QoS 0, wills) held at once; more are dropped. */
  qos0Buffer: number;
  commitTimeoutMs: number;
  /** Told of every commit attempt: its size in messages, how long it took, and whether it committed (metrics). */
  onCommit?: (messages: number, seconds: number, committed: boolean) => void;
}

export interface IngestStats {
  /** Messages committed. */
  stored: number;
  /** Of them, by the QoS they were published with. */
  storedQos0: number;
  storedQos1: number;
  storedQos2: number;
  readings: number;
  /** QoS 2 retransmissions recognised and not stored again. */
  duplicates: number;
  /** QoS 0 messages dropped because the buffer was full (database slow or down). */
  qos0Dropped: number;
  failedBatches: number;
  /** Messages the database rejected, by SQLSTATE (or error name): QoS 1/2 ones were refused to their sender, the others dropped. */
  rejected: Record<string, number>;
}

/** A QoS 1/2 message could not be committed; it must not be acknowledged. */
export class IngestUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`message not stored: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "IngestUnavailableError";
  }
}

/** The database rejected this message itself (a data error, a constraint), alone in its batch: it will never be stored. */
export class IngestRefusedError extends Error {
  /** The SQLSTATE the database answered, or the error's name when the row failed before reaching it. */
  readonly code: string;

  constructor(cause: unknown) {
    const code = cause instanceof pg.DatabaseError && cause.code ? cause.code : cause instanceof Error ? cause.name : "unknown";
    super(`the database refused the message (${code}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "IngestRefusedError";
    this.code = code;
  }
}

interface Settle {
  resolve(): void;
  reject(error: Error): void;
}

type Pending = (
  | /** `settle` is set for messages acknowledged on commit, absent for buffered ones. */
    { row: IngestRow; settle?: Settle; release?: undefined }
  | { release: Qos2Release; settle: Settle; row?: undefined }
) & {
  /** When it was queued (performance.now()), for the stuck-ingest check of /readyz. */
  queuedAt: number;
};

/** How one batch ended: what committed, what the database rejected row by row, and what an outage left unwritten. */
interface BatchOutcome {
  duplicates: Set<IngestRow>;
  rejected: Map<Pending, IngestRefusedError>;
  unwritten: Pending[];
  outage?: unknown;
}

const MAX_RETRY_DELAY_MS = 5_000;
/** Batches committing at once; the writer's pool has a connection for each. */
export const CONCURRENT_COMMITS = 2;
const FIRST_RETRY_DELAY_MS = 200;

export class IngestWriter {
  private queue: Pending[] = [];
  /** Buffered (un-acked) messages in the queue or in the batch being written. */
  private buffered = 0;
  /** Batches being committed. */
  private readonly flushes = new Set<Promise<void>>();
  /** Their messages, still unsettled, for oldestWaitingMs. */
  private readonly inFlight = new Set<Pending[]>();
  /** A batch with QoS 2 keys is committing: nothing else may start. */
  private exclusive = false;
  /** Resolves once every batch started so far has settled its messages (in start order). */
  private settled: Promise<void> = Promise.resolve();
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private closing = false;
  private readonly counters: IngestStats = {
    stored: 0,
    storedQos0: 0,
    storedQos1: 0,
    storedQos2: 0,
    readings: 0,
    duplicates: 0,
    qos0Dropped: 0,
    failedBatches: 0,
    rejected: {},
  };

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: WriterOptions,
    private readonly log: Logger,
  ) {}

  stats(): IngestStats {
    return { ...this.counters, rejected: { ...this.counters.rejected } };
  }

  /** How long the oldest message not yet settled has waited (queued or committing), in ms; 0 when none waits. */
  oldestWaitingMs(): number {
    let oldest = this.queue[0]?.queuedAt ?? Infinity;
    for (const batch of this.inFlight) oldest = Math.min(oldest, batch[0]?.queuedAt ?? Infinity);
    return oldest === Infinity ? 0 : performance.now() - oldest;
  }

  /** Resolves once the row is committed; rejects with IngestUnavailableError otherwise. */
  write(row: IngestRow): Promise<void> {
    if (this.closing) return Promise.reject(new IngestUnavailableError("the server is shutting down"));
    return new Promise((resolve, reject) => {
      this.queue.push({ row, settle: { resolve, reject }, queuedAt: performance.now() });
      this.schedule();
    });
  }

  /**
   * Removes QoS 2 keys, in the same queue as the messages, so that the removal is ordered
   * before any later message that reuses the packet id.
   */
  release(key: Qos2Release): Promise<void> {
    if (this.closing) return Promise.reject(new IngestUnavailableError("the server is shutting down"));
    return new Promise((resolve, reject) => {
      this.queue.push({ release: key, settle: { resolve, reject }, queuedAt: performance.now() });
      this.schedule();
    });
  }

  /** Stores the row when it can; drops (and counts) it when the buffer is full. Never waits. */
  buffer(row: IngestRow): void {
    if (this.closing || this.buffered >= this.options.qos0Buffer) {
      this.counters.qos0Dropped++;
      if (this.counters.qos0Dropped === 1 || this.counters.qos0Dropped % 1000 === 0) {
        this.log.warn({ dropped: this.counters.qos0Dropped }, "QoS 0 buffer full: dropping messages until the database catches up");
      }
      return;
    }
    this.buffered++;
    this.queue.push({ row, queuedAt: performance.now() });
    this.schedule();
  }

  private schedule(): void {
    // A failed database is retried on the backoff timer, not by every new message.
    if (this.retryTimer || !this.canStart()) return;
    if (this.queue.length >= this.options.batchMax || this.closing) {
      this.startFlush();
    } else if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => this.startFlush(), this.options.lingerMs);
    }
  }

  private canStart(): boolean {
    return this.flushes.size < CONCURRENT_COMMITS && !this.exclusive;
  }

  private startFlush(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.queue.length === 0 || !this.canStart()) return;
    // A backlog of buffered QoS 0 messages goes in larger batches. When devices send faster
    // than batches of batchMax commit, the broker's reading keeps the event loop busy and each
    // commit's reply waits for a turn of it, so the batch size, not the database, bounds the
    // rate: at QoS 0 flat out (ingest benchmark) 500-message batches stored a twentieth of
    // what the broker read and dropped the rest.
    const size = Math.min(this.queue.length, Math.max(this.options.batchMax, Math.ceil(this.buffered / CONCURRENT_COMMITS)));
    let ordered = false;
    for (let i = 0; i < size && !ordered; i++) ordered = isOrdered(this.queue[i]!);
    // It waits for the batches in flight; the last of them to finish starts it.
    if (ordered && this.flushes.size > 0) return;
    const batch = this.queue.splice(0, size);
    if (ordered) this.exclusive = true;
    this.inFlight.add(batch);
    const flushing: Promise<void> = this.flush(batch).finally(() => {
      this.flushes.delete(flushing);
      this.inFlight.delete(batch);
      if (ordered) this.exclusive = false;
      // Whatever arrived during the commit has already waited one commit: write it now.
      if (this.queue.length > 0 && !this.retryTimer) this.startFlush();
    });
    this.flushes.add(flushing);
    // A full batch already waiting goes to the second connection at once.
    if (this.queue.length >= this.options.batchMax) this.startFlush();
    else if (this.queue.length > 0) this.schedule();
  }

  private async flush(batch: Pending[]): Promise<void> {
    // Commits may finish out of order; messages settle in the order their batches started.
    const previous = this.settled;
    let done!: () => void;
    this.settled = new Promise((resolve) => (done = resolve));
    try {
      const outcome = await this.commitIsolatingRejects(batch);
      await previous;
      const unwritten = new Set(outcome.unwritten);
      for (const pending of batch) {
        if (unwritten.has(pending)) continue;
        const rejection = outcome.rejected.get(pending);
        if (rejection) {
          this.reject(pending, rejection);
          continue;
        }
        if (pending.row && outcome.duplicates.has(pending.row)) {
          this.counters.duplicates++;
        } else if (pending.row) {
          this.counters.stored++;
          this.counters[`storedQos${pending.row.qos}`]++;
          this.counters.readings += pending.row.readings.length;
        }
        if (pending.settle) pending.settle.resolve();
        else this.buffered--;
      }
      if (outcome.unwritten.length > 0) return this.fail(outcome.unwritten, outcome.outage);
      if (this.retryDelayMs > 0) this.log.info("database writes resumed");
      this.retryDelayMs = 0;
    } finally {
      done();
    }
  }

  /**
   * Commits the batch; when the database rejects it for a reason other than an outage, splits
   * it in halves, in order, until each rejected part is one message (about 2·log2(n) more
   * commits per bad row). Never throws: an outage stops the splitting and leaves the rest unwritten.
   */
  private async commitIsolatingRejects(batch: Pending[]): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { duplicates: new Set(), rejected: new Map(), unwritten: [] };
    const parts: Pending[][] = [batch];
    let split = false;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (outcome.unwritten.length > 0) {
        outcome.unwritten.push(...part);
        continue;
      }
      try {
        const duplicates = await this.commit(part.map((p) => (p.row ? { row: p.row } : { release: p.release })));
        for (const row of duplicates) outcome.duplicates.add(row);
      } catch (error) {
        if (isOutage(error)) {
          outcome.outage = error;
          outcome.unwritten.push(...part);
        } else if (part.length === 1) {
          outcome.rejected.set(part[0]!, new IngestRefusedError(error));
        } else {
          if (!split) {
            this.log.warn(
              { err: (error as Error).message, messages: batch.length },
              "the database rejected a batch: splitting it to find the offending message(s); the others are stored",
            );
            split = true;
          }
          const half = Math.ceil(part.length / 2);
          parts.unshift(part.slice(0, half), part.slice(half));
        }
      }
    }
    return outcome;
  }

  private async commit(items: BatchItem[]): Promise<Set<IngestRow>> {
    const client = await this.pool.connect();
    const started = performance.now();
    const observe = (committed: boolean) => this.options.onCommit?.(items.length, (performance.now() - started) / 1000, committed);
    try {
      const duplicates = await writeBatch(client, items, this.options.commitTimeoutMs);
      client.release();
      observe(true);
      return duplicates;
    } catch (error) {
      observe(false);
      // After an outage the connection's state is unknown (a timed-out query may still be
      // running on it): destroy it rather than hand it to the next batch. A rejected row leaves
      // it usable (the statement failed, or the transaction was rolled back).
      client.release(isOutage(error) ? (error instanceof Error ? error : true) : undefined);
      throw error;
    }
  }

  /** A message the database will never take: refused to its QoS 1/2 sender, or dropped and counted. */
  private reject(pending: Pending, rejection: IngestRefusedError): void {
    this.counters.rejected[rejection.code] = (this.counters.rejected[rejection.code] ?? 0) + 1;
    if (pending.settle) return pending.settle.reject(rejection);
    this.buffered--;
    const row = pending.row!;
    this.log.warn(
      { deviceId: row.deviceId, topic: row.topic.slice(0, 200), qos: row.qos, code: rejection.code },
      `dropped a message the database refused: ${rejection.message}`,
    );
  }

  private fail(batch: Pending[], error: unknown): void {
    this.counters.failedBatches++;
    const failure = new IngestUnavailableError(error);
    const keep: Pending[] = [];
    for (const pending of batch) {
      if (pending.settle) pending.settle.reject(failure);
      else if (this.closing) {
        this.buffered--;
        this.counters.qos0Dropped++;
      } else keep.push(pending);
    }
    // Back to the front, in order: buffered messages keep their place for the next attempt.
    this.queue.unshift(...keep);
    // Another batch in flight failed too and already set the retry.
    if (this.closing || this.retryTimer) return;
    const firstFailure = this.retryDelayMs === 0;
    this.retryDelayMs = firstFailure ? FIRST_RETRY_DELAY_MS : Math.min(this.retryDelayMs * 2, MAX_RETRY_DELAY_MS);
    const log = { err: failure.message, retryInMs: this.retryDelayMs, buffered: this.buffered };
    if (firstFailure) this.log.error(log, "database writes failing: QoS 1/2 messages are not acknowledged, QoS 0 messages are buffered");
    else this.log.debug(log, "database writes still failing");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.startFlush();
    }, this.retryDelayMs);
  }

  /**
   * Writes what is queued and waits for the commits in flight. Called after the broker has
   * stopped, so nothing new arrives; with the database down, one attempt is made and the
   * rest is dropped (and counted) rather than holding the shutdown.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.lingerTimer);
    clearTimeout(this.retryTimer);
    this.lingerTimer = undefined;
    this.retryTimer = undefined;
    for (;;) {
      if (this.flushes.size > 0) await Promise.all(this.flushes);
      else if (this.queue.length > 0) this.startFlush();
      else break;
    }
  }
}

/** QoS 2 key claims and releases must commit in queue order, so their batch commits alone. */
function isOrdered(pending: Pending): boolean {
  return pending.release !== undefined || pending.row?.qos2 !== undefined;
}
