import { describe, expect, it } from "vitest";
import type { LiveMqttMessage, RetainedEntry } from "@fleetwatch/contracts";
import {
  MAX_ROWS,
  RATE_WINDOW_MS,
  buildTopicTree,
  explorerReducer,
  initialExplorerState,
  messageRate,
  type ExplorerAction,
  type ExplorerState,
} from "./explorer-state.ts";

const message = (topic: string, payload: string, extra: Partial<LiveMqttMessage> = {}): LiveMqttMessage => ({
  subscription: "s1",
  topic,
  payload,
  encoding: "utf8",
  qos: 0,
  retain: false,
  at: 0,
  ...extra,
});
const batch = (now: number, ...messages: LiveMqttMessage[]): ExplorerAction => ({ type: "batch", messages, skipped: 0, now });
const run = (...actions: ExplorerAction[]): ExplorerState => actions.reduce(explorerReducer, initialExplorerState);
const payloads = (state: ExplorerState) => state.rows.map((row) => row.message.payload);

describe("topic explorer state", () => {
  it("shows the newest message first and keeps only the newest MAX_ROWS", () => {
    const state = run(batch(1, message("a", "1"), message("a", "2")), batch(2, message("b", "3")));
    expect(payloads(state)).toEqual(["3", "2", "1"]);
    expect(new Set(state.rows.map((row) => row.key)).size).toBe(3);

    const many = Array.from({ length: MAX_ROWS + 25 }, (_, i) => message("a", String(i)));
    const full = run(batch(1, ...many.slice(0, 300)), batch(2, ...many.slice(300)));
    expect(full.rows).toHaveLength(MAX_ROWS);
    expect(full.rows[0]?.message.payload).toBe(String(MAX_ROWS + 24));
    expect(full.rows.at(-1)?.message.payload).toBe("25");
    expect(full.topics.get("a")?.count).toBe(MAX_ROWS + 25);
  });

  it("pausing freezes the stream and counts what it held back; resuming continues with new messages", () => {
    const paused = run(batch(1, message("a", "1")), { type: "pause" }, batch(2, message("a", "2"), message("a", "3")));
    expect(payloads(paused)).toEqual(["1"]);
    expect(paused.heldBack).toBe(2);
    expect(paused.topics.get("a")?.lastValue).toBe("3"); // the tree keeps counting

    const resumed = [{ type: "resume" } as const, batch(3, message("a", "4"))].reduce(explorerReducer, paused);
    expect(payloads(resumed)).toEqual(["4", "1"]);
    expect(resumed.heldBack).toBe(0);
  });

  it("adds up the server's skipped counts, and clear resets them with the stream but keeps retained topics", () => {
    const state = run(
      { type: "batch", messages: [message("a", "1")], skipped: 12, now: 1 },
      { type: "batch", messages: [], skipped: 5, now: 2 },
      { type: "retained", entries: [retained("r/1", "json", { on: true }, "2026-01-01T00:00:00.000Z")] },
    );
    expect(state.skipped).toBe(17);
    const cleared = explorerReducer(state, { type: "clear" });
    expect(cleared.rows).toEqual([]);
    expect(cleared.skipped).toBe(0);
    expect([...cleared.topics.keys()]).toEqual(["r/1"]);
    expect(cleared.topics.get("r/1")).toMatchObject({ retained: true, lastValue: '{"on":true}', count: 0 });
  });

  it("measures messages per second over the sliding window", () => {
    const t0 = 1_000_000;
    const state = run(
      batch(t0, message("a", "1"), message("a", "2")),
      batch(t0 + 4_000, message("a", "3")),
      batch(t0 + 9_000, message("a", "4")),
    );
    const entry = state.topics.get("a");
    if (!entry) throw new Error("no entry");
    expect(messageRate(entry, t0 + 9_000)).toBe(4 / (RATE_WINDOW_MS / 1000));
    // The first two left the window; then the others.
    expect(messageRate(entry, t0 + RATE_WINDOW_MS + 1)).toBe(2 / (RATE_WINDOW_MS / 1000));
    expect(messageRate(entry, t0 + 9_000 + RATE_WINDOW_MS)).toBe(0);
  });

  it("merges retained values: a newer live value wins, an older one is replaced", () => {
    const liveAt = Date.parse("2026-01-01T00:00:10.000Z");
    const state = run(batch(liveAt, message("devices/a/state", '{"v":2}', { retain: false })), {
      type: "retained",
      entries: [
        retained("devices/a/state", "json", { v: 1 }, "2026-01-01T00:00:05.000Z"),
        retained("devices/b/state", "text", "idle", "2026-01-01T00:00:05.000Z"),
      ],
    });
    expect(state.topics.get("devices/a/state")).toMatchObject({ retained: true, retainedValue: '{"v":1}', lastValue: '{"v":2}' });
    expect(state.topics.get("devices/b/state")).toMatchObject({ retained: true, retainedValue: "idle", lastValue: "idle", count: 0 });

    // Live retained publishes replace the retained value; an empty one deletes it.
    const replaced = explorerReducer(state, batch(liveAt + 1, message("devices/b/state", "busy", { retain: true })));
    expect(replaced.topics.get("devices/b/state")).toMatchObject({ retained: true, retainedValue: "busy" });
    const deleted = explorerReducer(replaced, batch(liveAt + 2, message("devices/b/state", "", { retain: true })));
    expect(deleted.topics.get("devices/b/state")).toMatchObject({ retained: false, retainedValue: null });
  });

  it("builds a sorted tree of topic levels with topic counts", () => {
    const state = run(
      batch(
        1,
        message("devices/b/telemetry", "1"),
        message("devices/a/telemetry", "2"),
        message("devices/a/state", "3"),
        message("other", "4"),
      ),
    );
    const tree = buildTopicTree(state.topics.values());
    expect(tree.map((node) => [node.name, node.topicCount])).toEqual([
      ["devices", 3],
      ["other", 1],
    ]);
    const devices = tree[0];
    expect(devices?.children.map((node) => [node.path, node.topicCount])).toEqual([
      ["devices/a", 2],
      ["devices/b", 1],
    ]);
    expect(devices?.children[0]?.children.map((node) => [node.name, node.entry?.lastValue])).toEqual([
      ["state", "3"],
      ["telemetry", "2"],
    ]);
    expect(tree[1]?.entry?.topic).toBe("other");
  });
});

function retained(topic: string, format: RetainedEntry["format"], payload: unknown, updatedAt: string): RetainedEntry {
  return { topic, subtopic: topic, format, payload, updatedAt };
}
