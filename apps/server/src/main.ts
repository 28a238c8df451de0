// The process entry point: configuration, start, and signal handling.
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startFleetwatch, type Fleetwatch } from "./server.ts";
import { handleShutdownSignals } from "./shutdown.ts";
import { PortInUseError } from "./listen.ts";

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.lines) console.error(`Configuration error: ${line}`);
    process.exit(1);
  }
}

const config = readConfig();
const logger = createLogger(config.log);

handleShutdownSignals(process, {
  // A signal during start-up waits for the start to finish (or fail), then stops it.
  stop: async () => (await fleetwatch.catch(() => undefined))?.close(),
  timeoutMs: config.shutdownTimeoutMs,
  exit: (code) => process.exit(code),
  log: logger,
});
// Last line of defence: log and keep serving. Every known failure path is handled where it
// happens; an exception reaching here is a bug, but one client must not take the fleet down.
process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception"));
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

// Declared after the handlers above, which only read it once a signal arrives (a later tick).
const fleetwatch: Promise<Fleetwatch> = startFleetwatch(config, logger);
try {
  await fleetwatch;
} catch (error) {
  const message =
    error instanceof PortInUseError ? error.message : `could not start: ${error instanceof Error ? error.message : String(error)}`;
  logger.fatal(message);
  if (!config.log.pretty) console.error(`Fleetwatch ${message}`);
  process.exit(1);
}
