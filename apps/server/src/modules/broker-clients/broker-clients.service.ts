// The broker clients view: who is connected to any node right now, and an administrator's
// disconnect, carried out by whichever node holds the client.
import type { BrokerClientDisconnected, BrokerClientList, BrokerClientsQuery } from "@fleetwatch/contracts";
import type { Broker } from "../../broker/broker.ts";
import { requestClientDisconnect, type SessionChoice } from "../../broker/client-registry.ts";
import { ApiProblem } from "../../http/errors.ts";
import type { BrokerClientsRepository } from "./broker-clients.repository.ts";

const DEFAULT_PAGE_SIZE = 50;

export class BrokerClientsService {
  constructor(
    private readonly repository: BrokerClientsRepository,
    private readonly broker: Broker,
  ) {}

  async list(query: BrokerClientsQuery): Promise<BrokerClientList> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const offset = query.offset ?? 0;
    const { items, total, nodes } = await this.repository.list(query, limit, offset);
    return { items, total, limit, offset, nodes };
  }

  /**
   * Closes the client's connection on the node that holds it. The registry is written within
   * moments of a CONNECT, so a client connected just now may still be a 404.
   */
  async disconnect(clientId: string, session: SessionChoice): Promise<BrokerClientDisconnected> {
    const client = await this.repository.find(clientId);
    if (!client) throw new ApiProblem(404, `no MQTT client "${clientId}" is connected`);
    await requestClientDisconnect(this.broker, clientId, session);
    return { clientId, nodeId: client.nodeId, session };
  }
}
