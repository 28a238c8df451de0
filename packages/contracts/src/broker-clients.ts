// GET /api/broker/clients and POST /api/broker/clients/:clientId/disconnect: the MQTT clients
// connected right now to any node of the deployment (the registry in PostgreSQL).
import { Type, type Static } from "typebox";

export const BROKER_CLIENT_TRANSPORTS = ["tcp", "tls", "websocket"] as const;
export const BROKER_CLIENT_KINDS = ["device", "operator", "anonymous"] as const;
/** CONNECT's protocol level: 3 = MQTT 3.1, 4 = MQTT 3.1.1, 5 = MQTT 5. */
export const BROKER_CLIENT_PROTOCOLS = [3, 4, 5] as const;

const Transport = Type.Union([Type.Literal("tcp"), Type.Literal("tls"), Type.Literal("websocket")], {
  description: "How the client reached the broker: tcp (MQTT_PORT), tls (MQTTS_PORT) or websocket (/mqtt)",
});
const Kind = Type.Union([Type.Literal("device"), Type.Literal("operator"), Type.Literal("anonymous")], {
  description: "Who signed in: a device (its credentials), an operator (an API token), or anyone (MQTT_ALLOW_ANONYMOUS)",
});
const Protocol = Type.Union([Type.Literal(3), Type.Literal(4), Type.Literal(5)], {
  description: "The CONNECT's protocol level: 3 = MQTT 3.1, 4 = MQTT 3.1.1, 5 = MQTT 5",
});

export const BrokerClientSubscription = Type.Object({ topic: Type.String(), qos: Type.Integer({ minimum: 0, maximum: 2 }) });
export type BrokerClientSubscription = Static<typeof BrokerClientSubscription>;

export const BrokerClient = Type.Object(
  {
    clientId: Type.String(),
    kind: Kind,
    deviceId: Type.Union([Type.String(), Type.Null()], { description: "The device signed in, for kind device" }),
    operatorUserId: Type.Union([Type.String(), Type.Null()], { description: "The operator whose API token signed in, for kind operator" }),
    nodeId: Type.String({ description: "The server node holding the connection" }),
    transport: Transport,
    protocolVersion: Protocol,
    remoteAddress: Type.Union([Type.String(), Type.Null()]),
    keepalive: Type.Integer({ description: "Seconds, as the CONNECT asked (0: none)" }),
    cleanSession: Type.Boolean(),
    connectedAt: Type.String({ format: "date-time" }),
    subscriptions: Type.Array(BrokerClientSubscription, {
      description: "Granted topic filters with their QoS, restored ones of a persistent session included",
    }),
    messagesIn: Type.Integer({ description: "PUBLISH packets received from the client on this connection" }),
    messagesOut: Type.Integer({ description: "PUBLISH packets sent to the client on this connection" }),
  },
  { $id: "BrokerClient" },
);
export type BrokerClient = Static<typeof BrokerClient>;

export const BrokerClientsQuery = Type.Object(
  {
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "Client ids (and so device ids) starting with this text, case-sensitive" }),
    ),
    kind: Type.Optional(Kind),
    transport: Type.Optional(Transport),
    nodeId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    protocolVersion: Type.Optional(Protocol),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: "Page size (default 50)" })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: "Clients to skip (default 0)" })),
  },
  { additionalProperties: false },
);
export type BrokerClientsQuery = Static<typeof BrokerClientsQuery>;

export const BrokerClientList = Type.Object(
  {
    items: Type.Array(BrokerClient),
    total: Type.Integer({ description: "Clients matching the filters" }),
    limit: Type.Integer(),
    offset: Type.Integer(),
    nodes: Type.Array(Type.String(), { description: "Every node with connected clients (for the node filter)" }),
  },
  { $id: "BrokerClientList" },
);
export type BrokerClientList = Static<typeof BrokerClientList>;

export const BrokerClientParams = Type.Object({
  clientId: Type.String({ minLength: 1, maxLength: 65535, description: "The MQTT client id (URL-encoded)" }),
});
export type BrokerClientParams = Static<typeof BrokerClientParams>;

export const BROKER_CLIENT_SESSION_CHOICES = ["keep", "clear"] as const;

export const BrokerClientDisconnect = Type.Object(
  {
    session: Type.Union([Type.Literal("keep"), Type.Literal("clear")], {
      description:
        "keep: a persistent session (cleanSession=0) keeps its subscriptions and queued QoS 1/2 messages for its next CONNECT. clear: they are discarded, as a clean session's are [MQTT-3.1.2-4, MQTT-3.1.2-6]",
    }),
  },
  { additionalProperties: false },
);
export type BrokerClientDisconnect = Static<typeof BrokerClientDisconnect>;

export const BrokerClientDisconnected = Type.Object(
  { clientId: Type.String(), nodeId: Type.String(), session: Type.Union([Type.Literal("keep"), Type.Literal("clear")]) },
  { $id: "BrokerClientDisconnected" },
);
export type BrokerClientDisconnected = Static<typeof BrokerClientDisconnected>;
