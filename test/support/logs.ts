// A real pino logger whose lines a test can read back, for refusals whose only visible trace
// is the reason the server logs (a closed MQTT connection carries none in MQTT 3.1.1).
import { pino } from "pino";
import type { Logger } from "../../apps/server/src/logger.ts";
import { waitFor } from "./wait.ts";

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  logger: Logger;
  lines: LogLine[];
  /** Lines whose message contains `text`. */
  matching(text: string): LogLine[];
  /** The first line (so far or to come) whose message contains `text` and that passes `also`. */
  next(text: string, also?: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export function captureLogs(level: pino.Level = "info"): CapturedLogs {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const matching = (text: string) => lines.filter((line) => typeof line.msg === "string" && line.msg.includes(text));
  return {
    logger,
    lines,
    matching,
    next: (text, also = () => true, timeoutMs = 10_000) =>
      waitFor(() => matching(text).find(also), `a log line containing "${text}"`, timeoutMs),
  };
}
