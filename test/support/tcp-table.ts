// The kernel's own view of a TCP connection (Linux /proc/net/tcp and tcp6), for tests about
// what a server leaves behind in the kernel: a connection's state and its unsent bytes.
import { readFile } from "node:fs/promises";

/** TCP states as /proc/net/tcp numbers them (include/net/tcp_states.h). */
const STATES: Record<string, string> = {
  "01": "ESTABLISHED",
  "02": "SYN_SENT",
  "03": "SYN_RECV",
  "04": "FIN_WAIT1",
  "05": "FIN_WAIT2",
  "06": "TIME_WAIT",
  "07": "CLOSE",
  "08": "CLOSE_WAIT",
  "09": "LAST_ACK",
  "0A": "LISTEN",
  "0B": "CLOSING",
};

export interface KernelConnection {
  state: string;
  /** Bytes the kernel still holds to send (tx_queue). */
  sendQueueBytes: number;
}

/** The kernel's socket of the connection from local port `localPort` to remote port `remotePort`, if it still has one. */
export async function kernelConnection(localPort: number, remotePort: number): Promise<KernelConnection | undefined> {
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, remote, state, queues] = line.trim().split(/\s+/);
      if (!local || !remote || !state || !queues) continue;
      const port = (address: string) => parseInt(address.split(":").at(-1) ?? "", 16);
      if (port(local) !== localPort || port(remote) !== remotePort) continue;
      return { state: STATES[state] ?? state, sendQueueBytes: parseInt(queues.split(":")[0] ?? "0", 16) };
    }
  }
  return undefined;
}
