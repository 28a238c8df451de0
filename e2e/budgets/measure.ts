// Measures the dashboard's budgets (issue 5) and prints them; it asserts nothing inside the
// test suite, because wall-clock figures move with the machine's load. Run after a build:
//
//   npx -y pnpm@10.34.8 bench:web            (RUNS=10 DEVICES=10000 by default)
//
// (a) Initial JavaScript: every script index.html loads (the entry chunk and the classic
//     theme script), plus everything they pull in before first render (modulepreloads and
//     static imports, recursively), gzipped.
//     Lazy pages (dynamic import()) are not initial and are not counted.
// (b) The fleet page with DEVICES registered devices: from navigation start to the first
//     frame that shows both device rows and the counts, in a fresh browser context each
//     run (cold HTTP cache, as a first visit). The product is started as the README starts
//     it (support/product.ts), on TEST_DATABASE_URL's server when set, else embedded.
// Exit status 1 when a budget is exceeded, so it can gate a release by hand.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Browser } from "@playwright/test";
import { admin } from "../support/accounts.ts";
import { chromiumLaunchOptions } from "../support/browser.ts";
import { repoRoot, startProduct, type Product } from "../support/product.ts";

const budgets = { initialJsGzipBytes: 300 * 1024, fleetPageMs: 1_500 };
const runs = Number(process.env.RUNS ?? 10);
const deviceCount = Number(process.env.DEVICES ?? 10_000);
/** Rows per POST /api/devices/import: the most the API takes in one request (one INSERT). */
const importBatch = 5_000;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

// ---- (a) initial JavaScript ------------------------------------------------------------

/** The chunks a module statically imports (`import … from "./x.js"`, `import "./x.js"`); never `import("./x.js")`. */
function staticImports(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'](\.{1,2}\/[^"']+\.js)["']/g)) found.add(match[1]!);
  for (const match of code.matchAll(/\bexport\s*(?:\*|\{[^}]*\})\s*from\s*["'](\.{1,2}\/[^"']+\.js)["']/g)) found.add(match[1]!);
  return [...found];
}

function initialJavaScript(distDir: string): { files: { path: string; bytes: number; gzipBytes: number }[]; gzipBytes: number } {
  const html = readFileSync(join(distDir, "index.html"), "utf8");
  const entries = [
    // Module scripts and classic ones (public/theme.js runs before the first paint): all of them load up front.
    ...[...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!),
    ...[...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]!),
  ];
  if (entries.length === 0) throw new Error(`${distDir}index.html loads no module script: is it a Vite build?`);
  const seen = new Set<string>();
  const queue = entries.map((src) => src.replace(/^\//, ""));
  const files: { path: string; bytes: number; gzipBytes: number }[] = [];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const code = readFileSync(join(distDir, path));
    files.push({ path, bytes: code.length, gzipBytes: gzipSync(code).length });
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
    for (const specifier of staticImports(code.toString("utf8"))) queue.push(new URL(specifier, `file:///${dir}`).pathname.slice(1));
  }
  return { files, gzipBytes: files.reduce((sum, file) => sum + file.gzipBytes, 0) };
}

// ---- (b) the fleet page with many devices ------------------------------------------------

async function registerDevices(product: Product, count: number): Promise<void> {
  const login = await fetch(`${product.baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(admin),
  });
  if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const run = Date.now().toString(36);
  for (let start = 0; start < count; start += importBatch) {
    const rows = Array.from({ length: Math.min(importBatch, count - start) }, (_, i) => {
      const n = start + i;
      // A realistic spread of tags, so the table renders tag chips as it would in use.
      return {
        id: `budget-${run}-${String(n).padStart(5, "0")}`,
        name: `Sensor ${n}`,
        tags: [`site-${n % 20}`, n % 3 === 0 ? "outdoor" : "indoor"],
      };
    });
    const response = await fetch(`${product.baseUrl}/api/devices/import`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, "x-csrf-token": csrfToken },
      body: JSON.stringify(rows),
    });
    if (response.status !== 201) {
      const log = product.output().slice(-4_000);
      throw new Error(`import failed: ${response.status} ${(await response.text()).slice(0, 500)}\n${log}`);
    }
  }
}

interface FleetPageRun {
  /** navigation start → first frame with device rows and counts (performance.now in the page). */
  shownMs: number;
  /** Date.now() around page.goto + the wait, as seen by this script. */
  wallMs: number;
  devicesRequest: { durationMs: number; bytes: number } | undefined;
}

async function measureFleetPage(browser: Browser, baseUrl: string): Promise<FleetPageRun> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  try {
    const login = await context.request.post("/api/auth/login", { data: admin });
    if (login.status() !== 200) throw new Error(`sign-in failed: ${login.status()}`);
    const page = await context.newPage();
    const started = Date.now();
    await page.goto("/", { waitUntil: "commit" });
    const shownMs = await page.waitForFunction(
      () => {
        const row = document.querySelector(".fleet-table__body [role=row] a");
        const online = document.querySelector(".fleet-count--online .fleet-count__value");
        const counted = online !== null && /\d/.test(online.textContent ?? "");
        return row !== null && counted ? performance.now() : false;
      },
      undefined,
      { polling: "raf", timeout: 30_000 },
    );
    const wallMs = Date.now() - started;
    const devicesRequest = await page.evaluate(() => {
      const entry = performance.getEntriesByType("resource").find((e) => e.name.includes("/api/devices?")) as
        PerformanceResourceTiming | undefined;
      return entry ? { durationMs: entry.duration, bytes: entry.encodedBodySize } : undefined;
    });
    return { shownMs: (await shownMs.jsonValue()) as number, wallMs, devicesRequest };
  } finally {
    await context.close();
  }
}

/** Scrolls the whole table in big steps and records the frame intervals while it does. */
async function measureScroll(
  browser: Browser,
  baseUrl: string,
): Promise<{ frames: number[]; pendingRowsAfter: number; rowsInDom: number }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  try {
    await context.request.post("/api/auth/login", { data: admin });
    const page = await context.newPage();
    await page.goto("/");
    await page.locator(".fleet-table__body [role=row] a").first().waitFor();
    const result = await page.evaluate(async () => {
      const scroller = document.querySelector<HTMLElement>(".fleet-table__scroller")!;
      const frames: number[] = [];
      let rowsInDom = 0;
      let last = performance.now();
      // About a screenful per frame: the fastest a person flicks through a list.
      const step = scroller.clientHeight;
      while (scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight - 1) {
        scroller.scrollTop += step;
        await new Promise(requestAnimationFrame);
        const now = performance.now();
        frames.push(now - last);
        last = now;
        rowsInDom = Math.max(rowsInDom, scroller.querySelectorAll(".fleet-table__body [role=row]").length);
      }
      return { frames, rowsInDom };
    });
    // The last page arrives once the scrolling stops; then no row should still be pending.
    await page.locator(".fleet-table__body [role=row] a").last().waitFor();
    const pendingRowsAfter = await page.locator(".fleet-table__body [aria-busy=true]").count();
    return { ...result, pendingRowsAfter };
  } finally {
    await context.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

async function main(): Promise<void> {
  const dist = join(repoRoot, "apps/web/dist/");
  const js = initialJavaScript(dist);
  console.log("Initial JavaScript (entry chunk and its static imports, gzip):");
  for (const file of js.files) console.log(`  ${file.path}  ${kb(file.bytes)} raw, ${kb(file.gzipBytes)} gzip`);
  const jsOk = js.gzipBytes <= budgets.initialJsGzipBytes;
  console.log(`  total ${kb(js.gzipBytes)} gzip; budget ${kb(budgets.initialJsGzipBytes)}: ${verdict(jsOk)}\n`);

  const product = await startProduct({
    testDatabaseUrl: process.env.TEST_DATABASE_URL,
    env: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, LOG_LEVEL: "warn" },
  });
  let browser: Browser | undefined;
  try {
    const importStarted = Date.now();
    await registerDevices(product, deviceCount);
    console.log(
      `Registered ${deviceCount} devices through POST /api/devices/import in ${((Date.now() - importStarted) / 1000).toFixed(1)} s`,
    );

    browser = await chromium.launch(chromiumLaunchOptions);
    const warmUp = await measureFleetPage(browser, product.baseUrl);
    console.log(`Warm-up run (not counted): ${warmUp.shownMs.toFixed(0)} ms`);
    const results: FleetPageRun[] = [];
    for (let i = 0; i < runs; i++) {
      const result = await measureFleetPage(browser, product.baseUrl);
      results.push(result);
      const request = result.devicesRequest
        ? `; GET /api/devices page ${result.devicesRequest.durationMs.toFixed(0)} ms, ${kb(result.devicesRequest.bytes)}`
        : "";
      console.log(
        `  run ${i + 1}: shown ${result.shownMs.toFixed(0)} ms after navigation start (script's clock ${result.wallMs} ms${request})`,
      );
    }
    const shown = results.map((r) => r.shownMs);
    const median = percentile(shown, 50);
    const p95 = percentile(shown, 95);
    const pageOk = p95 < budgets.fleetPageMs;
    console.log(
      `Fleet page with ${deviceCount} devices: median ${median.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms over ${runs} runs; budget < ${budgets.fleetPageMs} ms (p95): ${verdict(pageOk)}\n`,
    );

    const scroll = await measureScroll(browser, product.baseUrl);
    console.log(
      `Scrolling all ${deviceCount} rows a screen per frame: ${scroll.frames.length} frames, frame interval median ${percentile(scroll.frames, 50).toFixed(1)} ms, ` +
        `p95 ${percentile(scroll.frames, 95).toFixed(1)} ms, max ${Math.max(...scroll.frames).toFixed(1)} ms; at most ${scroll.rowsInDom} rows in the DOM; ` +
        `${scroll.pendingRowsAfter} rows still loading after it stopped`,
    );

    console.log(
      `\nBudgets: initial JS ${kb(js.gzipBytes)} gz (${verdict(jsOk)}), fleet page p95 ${p95.toFixed(0)} ms (${verdict(pageOk)})`,
    );
    if (!jsOk || !pageOk) process.exitCode = 1;
  } finally {
    await browser?.close();
    await product.stop();
  }
}

await main();
