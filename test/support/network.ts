import { createServer, type Server } from "node:net";

/** Holds a port open, as another program (say, a Mosquitto on 1883) would. */
export function occupyPort(): Promise<{ port: number; release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (typeof address !== "object" || !address) return reject(new Error("no address"));
      resolve({ port: address.port, release: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

export { findFreePort } from "../../apps/server/src/db/embedded-postgres.ts";
