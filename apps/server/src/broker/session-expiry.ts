// MQTT 5 Session Expiry Interval, kept in PostgreSQL. aedes 2 ends an expiring session with a
// timer in the memory of the node the client left: a restart forgets it, and the session then
// stays until the client returns with Clean Start. Here each such session also gets its end
// time in PostgreSQL when its connection ends, loses it when the client connects again on any
// node, and a sweep on every node (and at every start) ends the ones whose time has come.
import type { Client } from "aedes";
import type { Logger } from "../logger.ts";
import type { Broker } from "./broker.ts";

/** 0xFFFFFFFF: the session does not expire [MQTT-3.1.2-23]. */
const NEVER = 0xffff_ffff;

export interface SessionExpiryStore {
  scheduleSessionExpiry(clientId: string, seconds: number): Promise<void>;
  resumeSession(clientId: string): Promise<void>;
  sweepExpiredSessions(): Promise<string[]>;
}

export interface DurableSessionExpiry {
  /** Ends the sweep; resolves once a sweep in progress is done. */
  stop(): Promise<void>;
}

/** aedes marks a client id whose session another connection is taking over (on this node, or another with our patch). */
const takingOver = (broker: Broker, clientId: string) =>
  (broker as unknown as { _takingOver?: Set<string> })._takingOver?.has(clientId) === true;

export function keepSessionExpiryDurable(
  broker: Broker,
  store: SessionExpiryStore,
  { sweepMs, logger }: { sweepMs: number; logger: Logger },
): DurableSessionExpiry {
  const log = logger.child({ component: "session-expiry" });
  const failed = (what: string, clientId?: string) => (error: unknown) =>
    log.warn({ err: (error as Error).message, ...(clientId ? { clientId } : {}) }, `session expiry: ${what} failed`);

  broker.on("client", (client: Client) => {
    store.resumeSession(client.id).catch(failed("resuming a session", client.id));
  });
  broker.on("clientDisconnect", (client: Client) => {
    // 3.1.1: a clean session ends now, another never expires. A taken-over session continues.
    if (client.version !== 5 || takingOver(broker, client.id)) return;
    const seconds = (client as unknown as { sessionExpiryInterval?: number }).sessionExpiryInterval ?? 0;
    // 0: aedes ends the session with the connection [MQTT-3.1.2-23].
    if (seconds === 0 || seconds >= NEVER) return;
    store.scheduleSessionExpiry(client.id, seconds).catch(failed("recording the end of a session", client.id));
  });

  let running: Promise<void> = Promise.resolve();
  const sweep = () => {
    running = store.sweepExpiredSessions().then((ended) => {
      if (ended.length > 0) log.info({ clientIds: ended.slice(0, 20), count: ended.length }, "ended expired MQTT sessions");
    }, failed("the sweep"));
  };
  sweep();
  const timer = setInterval(() => void running.then(sweep), sweepMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
