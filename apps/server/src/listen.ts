import type { Server } from "node:net";

/** A listener could not bind; the message names the port and the variable that changes it. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
    hint = "",
  ) {
    super(
      `port ${port} is already in use${hint}. Stop whatever holds it, or set ${variable} to a free port (for example ${variable}=${port + 1}).`,
    );
    this.name = "PortInUseError";
  }
}

/** Starts listening and resolves with the bound port; EADDRINUSE becomes a PortInUseError. */
export function listen(server: Server, port: number, host: string, variable: string, hint = ""): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(error.code === "EADDRINUSE" ? new PortInUseError(port, variable, hint) : error);
    };
    const onListening = () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/**
 * Stops accepting connections at once. Deliberately does not wait for close()'s callback:
 * that fires only when every open connection has ended, and those are closed afterwards by
 * their owners (the broker, Fastify); waiting here would deadlock the shutdown.
 */
export function stopListening(server: Server): Promise<void> {
  if (server.listening) server.close();
  return Promise.resolve();
}
