// A TCP proxy between a device and the broker that can go silent: silence() stops
// forwarding in both directions but closes nothing, as a device that loses power or
// network does. The broker sees no FIN or RST and must notice through the keepalive.
import { connect, createServer, type Socket } from "node:net";

export interface SilentProxy {
  port: number;
  silence(): void;
  close(): Promise<void>;
}

export async function startSilentProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<SilentProxy> {
  let silent = false;
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(targetPort, targetHost);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("close", () => sockets.delete(socket));
    }
    inbound.on("data", (chunk) => silent || outbound.write(chunk));
    outbound.on("data", (chunk) => silent || inbound.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the proxy has no port");
  return {
    port: address.port,
    silence: () => void (silent = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
