// The dashboard's live channel (/api/live) as a test meets it: a real WebSocket that records
// every frame the server sends.
import WebSocket from "ws";
import type { LiveServerMessage } from "../../packages/contracts/src/index.ts";
import { waitFor } from "./wait.ts";

export interface LiveTestClient {
  socket: WebSocket;
  frames: LiveServerMessage[];
  send(message: unknown): void;
  /** The first frame (so far or to come) that matches; fails after 10 s, listing the frames seen. */
  next(predicate: (frame: LiveServerMessage) => boolean, what: string): Promise<LiveServerMessage>;
}

/** Opens the live channel of the server at `httpUrl` with `headers` (a Bearer token, or a session cookie and Origin). */
export async function openLive(httpUrl: string, headers: Record<string, string>): Promise<LiveTestClient> {
  const socket = new WebSocket(`${httpUrl.replace("http", "ws")}/api/live`, { headers });
  const frames: LiveServerMessage[] = [];
  socket.on("message", (data) => frames.push(JSON.parse((data as Buffer).toString("utf8")) as LiveServerMessage));
  await new Promise<void>((resolve, reject) => (socket.once("open", () => resolve()), socket.once("error", reject)));
  return {
    socket,
    frames,
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    async next(predicate, what) {
      try {
        return await waitFor(() => frames.find(predicate), what);
      } catch (error) {
        throw new Error(`${(error as Error).message}; frames: ${JSON.stringify(frames).slice(0, 500)}`, { cause: error });
      }
    },
  };
}
