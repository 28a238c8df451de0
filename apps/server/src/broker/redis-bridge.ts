// Several server nodes, one fleet: with REDIS_URL set, the broker's emitter is
// mqemitter-redis, so a message published on one node reaches subscribers on every node,
// and so do the control messages (close a disabled device's connection, an operator's
// revoked credentials) and platform events (presence, alerts) that travel on it.
// Sessions, retained messages and wills are already shared through PostgreSQL.
import { Redis } from "ioredis";
import mqemitterRedis from "mqemitter-redis";
import type { Logger } from "../logger.ts";

const connectTimeoutMs = 5_000;

async function connect(url: string, role: string, nodeId: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: null,
    // Named, so an operator (or a test) can tell each node's connections apart in CLIENT LIST.
    connectionName: `fleetwatch:${nodeId}:${role}`,
  });
  // After a successful start, ioredis reconnects by itself; the broker keeps serving this
  // node's clients meanwhile, and cross-node traffic resumes when Redis is back.
  redis.on("error", (error: Error) => logger.warn({ err: error.message, connection: role }, "Redis connection error"));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`REDIS_URL: could not connect to Redis at ${new URL(url).host} (${reason})`, { cause: error });
  }
  return redis;
}

export interface RedisBridgeOptions {
  /** This node's id, in the connections' names. */
  nodeId: string;
  /**
   * Called once the subscribing connection is back after a break and subscribed again:
   * whatever other nodes sent through Redis meanwhile was dropped (pub/sub keeps nothing).
   */
  onResubscribed?: () => void;
}

/** The emitter for aedes' `mq` option; connecting fails start-up with a clear error rather than hanging. */
export async function redisEmitter(url: string, logger: Logger, { nodeId, onResubscribed }: RedisBridgeOptions) {
  const log = logger.child({ component: "redis-bridge" });
  const [pubConn, subConn] = [await connect(url, "publish", nodeId, log), await connect(url, "subscribe", nodeId, log)];
  log.info({ redis: new URL(url).host }, "bridging broker traffic between nodes through Redis");
  // 'ready' again means a reconnect (the first one was awaited above). ioredis sends its
  // SUBSCRIBEs right after emitting it; a PING queued behind them on the same connection
  // answers once they are done.
  subConn.on("ready", () =>
    setImmediate(() => {
      subConn.ping().then(
        () => {
          log.warn("Redis bridge reconnected: messages other nodes sent meanwhile were lost");
          onResubscribed?.();
        },
        (error: unknown) => log.warn({ err: (error as Error).message }, "Redis bridge: no answer after reconnecting"),
      );
    }),
  );
  const emitter = mqemitterRedis({ pubConn, subConn });
  // mqemitter-redis reports connection and publish failures as 'error' on `state`; unheard,
  // an EventEmitter 'error' would throw and end the process.
  // `state` is missing from its typings (mqemitter-redis.js sets it in the constructor).
  (emitter as unknown as { state: NodeJS.EventEmitter }).state.on("error", (error: Error) =>
    log.warn({ err: error.message }, "Redis bridge error"),
  );
  // On close, mqemitter-redis quits both connections while aedes may still be closing its
  // clients, whose clean-session unsubscribes publish a $SYS notice. Sent to a quitting
  // connection, that publish is rejected by ioredis ("Connection is closed") outside any
  // handler. Once closing, an emit is refused through its callback without reaching Redis.
  const closing = emitter as unknown as { closing?: boolean; closed?: boolean };
  const emit = emitter.emit.bind(emitter);
  emitter.emit = (message, callback) => {
    if (closing.closing || closing.closed) return callback?.(new Error("the Redis bridge is closing"));
    emit(message, callback);
  };
  return emitter;
}
