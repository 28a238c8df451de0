// CI's smoke test of the real zero-config default: runs the README's start command verbatim
// (install, build, start) in a fresh DATA_DIR with no DATABASE_URL, so the embedded
// PostgreSQL is used; waits for /readyz; signs in, registers a device and does an MQTT round
// trip with its credentials; stops the server with SIGTERM and expects exit 0.
import { execFileSync, spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { findFreePort } from "../support/network.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const readme = await readFile(join(repoRoot, "README.md"), "utf8");
const startCommand = /<!-- start-command -->\s*```sh\n(.+)\n```/.exec(readme)?.[1];
if (!startCommand) throw new Error("README.md has no start command between <!-- start-command --> and a ```sh block");

const dataDir = await mkdtemp(join(tmpdir(), "fleetwatch-smoke-"));
await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL runs as the postgres user
const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()];
const admin = { email: "smoke@fleetwatch.local", password: `smoke-${Date.now()}` };
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: String(httpPort),
  MQTT_PORT: String(mqttPort),
  DATA_DIR: dataDir,
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
};
delete env.DATABASE_URL;

console.log(`smoke: ${startCommand}  (PORT=${httpPort} MQTT_PORT=${mqttPort} DATA_DIR=${dataDir})`);
const child = spawn("sh", ["-c", startCommand], { cwd: repoRoot, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
let output = "";
child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

function fail(message: string): never {
  console.error(`smoke FAILED: ${message}\n--- product output ---\n${output}`);
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // The process group is already gone.
  }
  process.exit(1);
}

try {
  const deadline = Date.now() + 300_000; // includes install and build on a cold machine
  let ready = false;
  while (!ready && Date.now() < deadline) {
    ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 500));
  }
  if (!ready) fail("/readyz did not answer 200");
  console.log("smoke: /readyz is 200");

  // Sign in as the first admin, register a device, and do the round trip with its own credentials.
  const http = `http://127.0.0.1:${httpPort}`;
  const login = await fetch(`${http}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(admin),
  });
  if (login.status !== 200) fail(`sign-in answered ${login.status}`);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const registration = await fetch(`${http}/api/devices`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, "x-csrf-token": csrfToken },
    body: JSON.stringify({ name: "Smoke sensor", id: "smoke-1" }),
  });
  if (registration.status !== 201) fail(`device registration answered ${registration.status}: ${await registration.text()}`);
  const { credentials } = (await registration.json()) as { credentials: { clientId: string; username: string; password: string } };
  console.log("smoke: signed in and registered device smoke-1");

  const anonymous = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 }).then(
    async (client) => (await client.endAsync(), "accepted"),
    () => "refused",
  );
  if (anonymous !== "refused") fail("an anonymous MQTT client was accepted");

  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0, ...credentials });
  await device.subscribeAsync("devices/smoke-1/#", { qos: 1 });
  const received = new Promise<string>((resolve) => device.once("message", (_topic, payload) => resolve(payload.toString())));
  await device.publishAsync("devices/smoke-1/telemetry", '{"temp":21.5}', { qos: 1 });
  const payload = await Promise.race([received, new Promise<string>((r) => setTimeout(() => r("(timeout)"), 10_000))]);
  if (payload !== '{"temp":21.5}') fail(`MQTT round trip returned ${payload}`);
  console.log("smoke: MQTT round trip ok (anonymous refused, device credentials accepted)");
  await device.endAsync();

  // SIGTERM to the server process, as a service manager sends it; the README's command
  // (sh → pnpm → node) must then end with exit 0 as a whole.
  const serverPid = findServerPid(child.pid!);
  if (!serverPid) fail("could not find the server process");
  process.kill(serverPid, "SIGTERM");
  const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000))]);
  if (code !== 0) fail(`expected the start command to exit 0 after SIGTERM, got ${code}`);
  if (!/stopped/.test(output)) fail("no 'stopped' line after SIGTERM");
  console.log("smoke: SIGTERM → exit 0");
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

/** The node process running the server, in the process group the start command leads. */
function findServerPid(groupId: number): number | undefined {
  try {
    const pids = execFileSync("pgrep", ["-g", String(groupId), "-f", "^(\\S*/)?node apps/server/dist/main\\.js"], { encoding: "utf8" });
    return Number(pids.trim().split("\n")[0]) || undefined;
  } catch {
    return undefined;
  }
}
