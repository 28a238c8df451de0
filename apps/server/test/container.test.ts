// The container, checked without a Docker engine (none runs here; CI validates docker-compose.yml
// with `docker-compose config -q`): the Dockerfile builds on the current Node LTS line, its
// runtime stage copies production dependencies and built output only (every path it copies
// exists after `pnpm build`), runs as a non-root user and checks /readyz; .dockerignore keeps
// secrets, local data, installed trees, test artefacts and bench results out of the context.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const dockerfile = readFileSync(`${repoRoot}Dockerfile`, "utf8");
const lines = dockerfile.split("\n").filter((line) => line.trim() && !line.trimStart().startsWith("#"));
const stages = lines.reduce<string[][]>((all, line) => (line.startsWith("FROM ") ? [...all, [line]] : (all.at(-1)?.push(line), all)), []);
const runtime = stages.at(-1) ?? [];

describe("Dockerfile", () => {
  it("builds on the current Node LTS line (24), in a build stage and a runtime stage", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM node:24-[a-z]+-slim\b/);
  });

  it("gives the runtime stage production dependencies and built output only, all of which exist after the build", () => {
    const copies = runtime.filter((line) => line.startsWith("COPY"));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      expect(copy, "copies from the build or deps stage, never the source tree").toMatch(/^COPY --from=(build|deps) /);
      const sources = copy
        .replace(/^COPY --from=\w+\s+/, "")
        .split(/\s+/)
        .slice(0, -1);
      for (const source of sources) {
        expect(source).not.toMatch(/\/src\b|\/test\b|e2e|bench/);
        if (source.includes("node_modules")) continue; // installed, not in the repository
        expect(existsSync(`${repoRoot}${source.replace(/^\/app\//, "")}`), source).toBe(true);
      }
    }
    // node_modules come from the stage that installed production dependencies only.
    const deps = stages.find((stage) => / AS deps$/.test(stage[0]!)) ?? [];
    expect(deps.some((line) => /pnpm install --prod\b/.test(line))).toBe(true);
    for (const copy of copies.filter((line) => line.includes("node_modules"))) expect(copy).toMatch(/^COPY --from=deps /);
  });

  it("runs as a non-root user, checks /readyz, and starts the server with node itself (signals reach it)", () => {
    expect(runtime).toContain("USER node");
    expect(runtime.join("\n")).toMatch(/HEALTHCHECK[\s\S]*\/readyz/);
    expect(runtime.at(-1)).toBe('CMD ["node", "apps/server/dist/main.js"]');
  });
});

describe(".dockerignore", () => {
  const entries = new Set(
    readFileSync(`${repoRoot}.dockerignore`, "utf8")
      .split("\n")
      .map((line) => line.trim()),
  );
  it("keeps .env files, local data, installed and built trees, test artefacts and bench results out of the image", () => {
    for (const pattern of [
      ".env",
      ".env.*",
      "**/.env",
      "**/.env.*",
      "data",
      "**/node_modules",
      "**/dist",
      "e2e/artifacts",
      "**/test-results",
      "**/playwright-report",
      "bench/results",
    ]) {
      expect(entries, pattern).toContain(pattern);
    }
    expect([...entries].some((entry) => entry.startsWith("!"))).toBe(false);
  });
});
