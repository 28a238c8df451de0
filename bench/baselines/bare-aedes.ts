// Baseline (a): bare aedes, the same aedes package the server embeds (resolved from
// apps/server, so the version cannot differ), with its default in-memory persistence and
// no storage, on a TCP listener with noDelay, in its own process. Run directly it is the
// broker; imported, startBareAedes() runs it as a child process.
import { createRequire } from "node:module";
import { createServer, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { freePort } from "../lib/ports.ts";
import { spawnTarget, tsNode, type TargetProcess } from "../lib/processes.ts";
import { repoRoot } from "../lib/results.ts";

const self = fileURLToPath(import.meta.url);

export interface BareAedes {
  process: TargetProcess;
  port: number;
  version: string;
  stop(): Promise<void>;
}

export function aedesFromServer(): { url: string; version: string } {
  const require = createRequire(`${repoRoot}apps/server/package.json`);
  const path = require.resolve("aedes");
  // aedes' exports do not include package.json; it sits beside the entry point.
  const version = (JSON.parse(readFileSync(join(dirname(path), "package.json"), "utf8")) as { version: string }).version;
  return { url: pathToFileURL(path).href, version };
}

export async function startBareAedes(): Promise<BareAedes> {
  const port = await freePort();
  const [command, args] = tsNode(self, [String(port)]);
  const child = spawnTarget("bare aedes", command, [...args]);
  await child.waitForOutput(/bare aedes listening/, 60_000);
  return { process: child, port, version: aedesFromServer().version, stop: () => child.stop() };
}

if (process.argv[1] && resolve(process.argv[1]) === self) {
  const port = Number(process.argv[2]);
  type Broker = { handle(socket: Socket): void; close(done: () => void): void };
  const { Aedes } = (await import(aedesFromServer().url)) as { Aedes: { createBroker(): Promise<Broker> } };
  const broker = await Aedes.createBroker();
  const server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
  // A client dropping mid-write must not end the baseline; aedes closes that client.
  (broker as unknown as NodeJS.EventEmitter).on("error", () => {});
  server.listen(port, "127.0.0.1", () => console.log(`bare aedes listening on ${port}`));
  const stop = () => {
    setTimeout(() => process.exit(0), 3_000).unref();
    broker.close(() => server.close(() => process.exit(0)));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
