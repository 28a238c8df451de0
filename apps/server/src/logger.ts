import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.ts";

export type { Logger };

/**
 * One JSON line per event in production (for log shippers); one readable line per event
 * in development. pino-pretty runs in-process (not as a worker transport) so that the last
 * lines before an exit are never lost.
 */
export function createLogger(log: Config["log"]): Logger {
  if (!log.pretty) return pino({ level: log.level });
  const stream = pretty({
    colorize: process.stdout.isTTY,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname",
    singleLine: true,
    sync: true,
  });
  return pino({ level: log.level }, stream);
}
