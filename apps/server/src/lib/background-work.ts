// Timers and per-key queues for a service's background work (sweeps, flushes, ordered
// updates), with one stop: no new timers, pending ones cleared, queued work drained.

/** setTimeout's longest delay: a longer one fires at once (Node sets it to 1 ms). Work due later waits for a periodic sweep. */
export const MAX_TIMEOUT_MS = 0x7fff_ffff;

export class BackgroundWork {
  #stopped = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #chains = new Map<string, Promise<void>>();

  /** `onError` reports a failure of serialized work; the key's later work still runs. */
  constructor(private readonly onError: (error: unknown, key: string) => void) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs `work` every `ms`, counted from the end of the previous run, until stop(). */
  every(ms: number, work: () => Promise<void>): void {
    const tick = () => this.after(ms, () => work().finally(tick));
    tick();
  }

  /** Runs `work` once after `ms`, unless stopped first. The timer never holds the process open. */
  after(ms: number, work: () => Promise<unknown>): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void work();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Runs work for one key after that key's earlier work, in call order; keys run concurrently. */
  serialize(key: string, work: () => Promise<void>): void {
    const run = async () => {
      try {
        await work();
      } catch (error) {
        this.onError(error, key);
      }
    };
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(run);
    this.#chains.set(key, next);
    void next.then(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** No new timers from now on; pending ones are cleared. Serialized work already queued still runs. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Resolves when the serialized work queued so far has run. */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }
}
