// Signal policy for a graceful stop. The first SIGTERM/SIGINT starts the shutdown; the
// process exits 0 when it completes, or 1 at the deadline. A second signal forces the exit,
// except an echo of the first: a terminal's Ctrl-C reaches every process in the group, so a
// wrapper (pnpm, tsx) and the server itself can deliver the same press twice in a few ms.

export interface ShutdownOptions {
  stop: () => Promise<void>;
  timeoutMs: number;
  /** Signals closer than this to the first count as the same signal. */
  echoWindowMs?: number;
  exit: (code: number) => void;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  now?: () => number;
}

export interface SignalSource {
  on(event: "SIGTERM" | "SIGINT", listener: (signal: NodeJS.Signals) => void): unknown;
}

export function handleShutdownSignals(source: SignalSource, options: ShutdownOptions): void {
  const { stop, timeoutMs, exit, log, echoWindowMs = 500, now = Date.now } = options;
  let firstSignalAt: number | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      if (now() - firstSignalAt < echoWindowMs) return;
      log.warn(`${signal} again: exiting now without waiting`);
      exit(1);
      return;
    }
    firstSignalAt = now();
    log.info(`${signal}: shutting down (send it again to force)`);
    const deadline = setTimeout(() => {
      log.error(`shutdown took longer than ${timeoutMs} ms: exiting now`);
      exit(1);
    }, timeoutMs);
    deadline.unref();
    stop().then(
      () => {
        clearTimeout(deadline);
        log.info("stopped");
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        log.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        exit(1);
      },
    );
  };
  source.on("SIGTERM", onSignal);
  source.on("SIGINT", onSignal);
}
