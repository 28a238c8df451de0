#!/usr/bin/env node
// `pnpm simulate`: a simulated fleet against a running Fleetwatch.
import { OptionsError, USAGE, parseOptions } from "./options.ts";
import { runSimulation } from "./simulate.ts";

let options;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof OptionsError)) throw error;
  console.error(`simulate: ${error.message}\nRun with --help for the options.`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

const controller = new AbortController();
let interrupted = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second Ctrl-C does not wait for the devices' goodbyes.
    if (++interrupted > 1) process.exit(130);
    console.log(`simulate: ${signal}, stopping the fleet`);
    controller.abort();
  });
}

try {
  await runSimulation(options, { signal: controller.signal });
  process.exit(0);
} catch (error) {
  console.error(`simulate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
