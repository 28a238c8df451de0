// The topic explorer's state, pure (a reducer plus two readers), so its rules are unit-tested:
// - the stream keeps the newest MAX_ROWS messages; pausing freezes it, and what arrives while
//   paused is counted, not queued (resume continues with new messages);
// - every topic seen (live, or retained from GET /api/retained) has an entry with its last value
//   and the receipt times inside the rate window, for messages per second;
// - `skipped` adds up the server's counts of messages its rate limit dropped.
import type { LiveMqttMessage, RetainedEntry } from "@fleetwatch/contracts";

/** Rows kept in the stream; older ones fall off the end. */
export const MAX_ROWS = 500;
/** Topics the tree tracks; a firehose beyond it is counted instead of growing memory. */
export const MAX_TOPICS = 5_000;
/** Message rates are averaged over this sliding window. */
export const RATE_WINDOW_MS = 10_000;
/** Receipt times kept per topic: bounds memory for a topic faster than MAX_RECENT per window. */
const MAX_RECENT = 2_000;
/** Longest last value kept per topic (the tree shows a one-line preview). */
const MAX_PREVIEW = 200;

export interface StreamRow {
  /** Stable React key: the arrival order. */
  key: number;
  /** When the browser received it (epoch ms). */
  receivedAt: number;
  message: LiveMqttMessage;
}

export interface TopicEntry {
  topic: string;
  /** Live messages seen since the last clear. */
  count: number;
  /** Receipt times within the rate window, oldest first. */
  recent: number[];
  /** One-line preview of the latest payload (live or retained). */
  lastValue: string | null;
  lastAt: number | null;
  /** The broker holds a retained message for this topic. */
  retained: boolean;
  /** Preview of the retained message, which a later plain message does not replace. */
  retainedValue: string | null;
}

export interface ExplorerState {
  rows: StreamRow[];
  nextKey: number;
  topics: ReadonlyMap<string, TopicEntry>;
  /** Messages the server's rate limit dropped, summed from the batches' `skipped`. */
  skipped: number;
  paused: boolean;
  /** Messages that arrived while paused and were not added to the stream. */
  heldBack: number;
  /** Topics not tracked because MAX_TOPICS was reached. */
  untrackedTopics: number;
}

export type ExplorerAction =
  | { type: "batch"; messages: LiveMqttMessage[]; skipped: number; now: number }
  | { type: "retained"; entries: RetainedEntry[] }
  | { type: "pause" }
  | { type: "resume" }
  /** Empties the stream and the counts; retained values stay (the broker still holds them). */
  | { type: "clear" };

export const initialExplorerState: ExplorerState = {
  rows: [],
  nextKey: 0,
  topics: new Map(),
  skipped: 0,
  paused: false,
  heldBack: 0,
  untrackedTopics: 0,
};

const preview = (text: string) => (text.length > MAX_PREVIEW ? `${text.slice(0, MAX_PREVIEW)}…` : text);

function retainedPreview(entry: RetainedEntry): string {
  if (entry.format === "json") return preview(JSON.stringify(entry.payload));
  return preview(String(entry.payload));
}

const emptyEntry = (topic: string): TopicEntry => ({
  topic,
  count: 0,
  recent: [],
  lastValue: null,
  lastAt: null,
  retained: false,
  retainedValue: null,
});

export function explorerReducer(state: ExplorerState, action: ExplorerAction): ExplorerState {
  switch (action.type) {
    case "batch": {
      const { messages, now } = action;
      const topics = new Map(state.topics);
      let untracked = state.untrackedTopics;
      const windowStart = now - RATE_WINDOW_MS;
      for (const message of messages) {
        const existing = topics.get(message.topic);
        if (!existing && topics.size >= MAX_TOPICS) {
          untracked++;
          continue;
        }
        const entry = existing ? { ...existing } : emptyEntry(message.topic);
        entry.count++;
        entry.recent = [...entry.recent.filter((at) => at > windowStart), now].slice(-MAX_RECENT);
        entry.lastValue = preview(message.encoding === "base64" ? `base64:${message.payload}` : message.payload);
        entry.lastAt = now;
        if (message.retain) {
          // A retained publish replaces the stored message, and an empty one deletes it [MQTT-3.3.1-5, MQTT-3.3.1-10].
          entry.retained = message.payload !== "";
          entry.retainedValue = entry.retained ? entry.lastValue : null;
        }
        topics.set(message.topic, entry);
      }
      let { rows, nextKey, heldBack } = state;
      if (state.paused) heldBack += messages.length;
      else if (messages.length > 0) {
        const fresh: StreamRow[] = [];
        // Newest first: the last message of the batch goes on top.
        for (let i = messages.length - 1; i >= 0 && fresh.length < MAX_ROWS; i--) {
          fresh.push({ key: nextKey + i, receivedAt: now, message: messages[i] as LiveMqttMessage });
        }
        nextKey += messages.length;
        rows = [...fresh, ...rows].slice(0, MAX_ROWS);
      }
      return { ...state, rows, nextKey, heldBack, topics, skipped: state.skipped + action.skipped, untrackedTopics: untracked };
    }
    case "retained": {
      const topics = new Map(state.topics);
      for (const retained of action.entries) {
        const existing = topics.get(retained.topic);
        if (!existing && topics.size >= MAX_TOPICS) continue;
        const updatedAt = Date.parse(retained.updatedAt);
        const entry = existing ? { ...existing } : emptyEntry(retained.topic);
        entry.retained = true;
        entry.retainedValue = retainedPreview(retained);
        // A live message newer than the stored one keeps its value.
        if (entry.lastAt === null || entry.lastAt < updatedAt) {
          entry.lastValue = retainedPreview(retained);
          entry.lastAt = updatedAt;
        }
        topics.set(retained.topic, entry);
      }
      return { ...state, topics };
    }
    case "pause":
      return { ...state, paused: true };
    case "resume":
      return { ...state, paused: false, heldBack: 0 };
    case "clear": {
      const topics = new Map<string, TopicEntry>();
      for (const entry of state.topics.values()) {
        if (entry.retained) topics.set(entry.topic, { ...entry, count: 0, recent: [] });
      }
      return { ...initialExplorerState, paused: state.paused, nextKey: state.nextKey, topics };
    }
  }
}

/** Messages per second over the sliding window ending at `now`. */
export function messageRate(entry: TopicEntry, now: number): number {
  const windowStart = now - RATE_WINDOW_MS;
  let inWindow = 0;
  for (let i = entry.recent.length - 1; i >= 0 && (entry.recent[i] as number) > windowStart; i--) inWindow++;
  return inWindow / (RATE_WINDOW_MS / 1000);
}

export interface TopicNode {
  /** This level's name ("" for an empty level, as in `a//b`). */
  name: string;
  /** The topic up to and including this level. */
  path: string;
  /** Present when a message was seen (or is retained) on exactly this topic. */
  entry?: TopicEntry;
  children: TopicNode[];
  /** Topics with an entry at or below this node. */
  topicCount: number;
}

/** The topics as a tree of their levels, children sorted by name. */
export function buildTopicTree(entries: Iterable<TopicEntry>): TopicNode[] {
  const root: TopicNode = { name: "", path: "", children: [], topicCount: 0 };
  const index = new Map<string, TopicNode>();
  for (const entry of entries) {
    let node = root;
    node.topicCount++;
    const levels = entry.topic.split("/");
    levels.forEach((level, depth) => {
      const path = levels.slice(0, depth + 1).join("/");
      let child = index.get(path);
      if (!child) {
        child = { name: level, path, children: [], topicCount: 0 };
        index.set(path, child);
        node.children.push(child);
      }
      child.topicCount++;
      node = child;
    });
    node.entry = entry;
  }
  const sort = (nodes: TopicNode[]) => {
    nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const node of nodes) sort(node.children);
  };
  sort(root.children);
  return root.children;
}
