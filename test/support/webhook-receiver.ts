// A real HTTP server that receives webhook notifications the way a user's endpoint would: it
// reads the raw body, checks X-Fleetwatch-Signature against the secret (HMAC-SHA256 of the
// exact bytes, compared in constant time), and answers what the test tells it to.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  /** Whether the signature header matches the raw body under the receiver's secret. */
  signatureValid: boolean;
  /** Date.now() when the whole body had arrived. */
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Sets how the next requests are answered (default: 200). */
  respond(answer: (request: ReceivedWebhook, index: number) => number | Promise<number>): void;
  /** Resolves with the first request (counting those already received) that matches. */
  next(match: (request: ReceivedWebhook) => boolean, timeoutMs?: number): Promise<ReceivedWebhook>;
  close(): Promise<void>;
}

export function verifySignature(secret: string, raw: string, header: string | string[] | undefined): boolean {
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(raw).digest("hex"));
  const given = Buffer.from(header.slice("sha256=".length));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startWebhookReceiver(secret = ""): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  let answer: (request: ReceivedWebhook, index: number) => number | Promise<number> = () => 200;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON: kept as text
      }
      const entry: ReceivedWebhook = {
        path: request.url ?? "/",
        headers: request.headers,
        raw,
        body,
        signatureValid: verifySignature(secret, raw, request.headers["x-fleetwatch-signature"]),
        at: Date.now(),
      };
      const index = received.push(entry) - 1;
      for (const waiter of waiters) waiter();
      void Promise.resolve(answer(entry, index)).then(
        (status) => {
          if (!response.destroyed) response.writeHead(status, { "content-type": "text/plain" }).end(`answered ${status}`);
        },
        () => response.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    respond(next) {
      answer = next;
    },
    next(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a webhook; received: ${received.map((r) => r.raw.slice(0, 200)).join("\n")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
