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
// When the database fails, the batch's acknowledged-on-commit messages fail with it (the
// broker then drops their clients without an ack, and the devices retry), buffered QoS 0
// messages are kept for the next attempt up to the bound, and the writer retries with a
// backoff until the database answers again.
//
// Nothing here is needed for correctness across nodes: each node batches its own clients'
// messages, and everything durable is in PostgreSQL.
import type pg from "pg";
import type { Logger } from "../logger.ts";
import { writeBatch, type BatchItem, type IngestRow, type Qos2Release } from "./ingest.repository.ts";

export interface WriterOptions {
  batchMax: number;
  lingerMs: number;
  /** Most unacknowledged messages (QoS 0, wills) held at once; more are dropped. */
  qos0Buffer: number;
  commitTimeoutMs: number;
}

export interface IngestStats {
  /** Messages committed. */
  stored: number;
  readings: number;
  /** QoS 2 retransmissions recognised and not stored again. */
  duplicates: number;
  /** QoS 0 messages dropped because the buffer was full (database slow or down). */
  qos0Dropped: number;
  failedBatches: number;
}

/** A QoS 1/2 message could not be committed; it must not be acknowledged. */
export class IngestUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`message not stored: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "IngestUnavailableError";
  }
}

interface Settle {
  resolve(): void;
  reject(error: Error): void;
}

type Pending =
  /** `settle` is set for messages acknowledged on commit, absent for buffered ones. */
  { row: IngestRow; settle?: Settle; release?: undefined } | { release: Qos2Release; settle: Settle; row?: undefined };

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
  /** A batch with QoS 2 keys is committing: nothing else may start. */
  private exclusive = false;
  /** Resolves once every batch started so far has settled its messages (in start order). */
  private settled: Promise<void> = Promise.resolve();
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private closing = false;
  private readonly counters: IngestStats = { stored: 0, readings: 0, duplicates: 0, qos0Dropped: 0, failedBatches: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: WriterOptions,
    private readonly log: Logger,
  ) {}

  stats(): IngestStats {
    return { ...this.counters };
  }

  /** Resolves once the row is committed; rejects with IngestUnavailableError otherwise. */
  write(row: IngestRow): Promise<void> {
    if (this.closing) return Promise.reject(new IngestUnavailableError("the server is shutting down"));
    return new Promise((resolve, reject) => {
      this.queue.push({ row, settle: { resolve, reject } });
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
      this.queue.push({ release: key, settle: { resolve, reject } });
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
    this.queue.push({ row });
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
    const flushing: Promise<void> = this.flush(batch).finally(() => {
      this.flushes.delete(flushing);
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
      let duplicates: Set<IngestRow> | undefined;
      let failure: unknown;
      try {
        duplicates = await this.commit(batch.map((p) => (p.row ? { row: p.row } : { release: p.release })));
      } catch (error) {
        failure = error;
      }
      await previous;
      if (!duplicates) return this.fail(batch, failure);
      if (this.retryDelayMs > 0) this.log.info("database writes resumed");
      this.retryDelayMs = 0;
      for (const pending of batch) {
        if (pending.row && duplicates.has(pending.row)) {
          this.counters.duplicates++;
        } else if (pending.row) {
          this.counters.stored++;
          this.counters.readings += pending.row.readings.length;
        }
        if (pending.settle) pending.settle.resolve();
        else this.buffered--;
      }
    } finally {
      done();
    }
  }

  private async commit(items: BatchItem[]): Promise<Set<IngestRow>> {
    const client = await this.pool.connect();
    try {
      const duplicates = await writeBatch(client, items, this.options.commitTimeoutMs);
      client.release();
      return duplicates;
    } catch (error) {
      // The connection's state is unknown (a timed-out query may still be running on it):
      // destroy it rather than hand it to the next batch.
      client.release(error instanceof Error ? error : true);
      throw error;
    }
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
