// The broker's access rules: who may connect, publish, subscribe and leave a Last Will.
// Plain typed promise functions, free of aedes' callback style (hooks.ts adapts them), so
// they can be composed with later steps and tested on their own.
//
// Nothing is open by default: a device is confined to devices/{its id}/, operators reach
// the fleet through their API tokens, and anonymous access exists only when configured.
import {
  CONTROL_PREFIX,
  deviceOfFilter,
  deviceTopic,
  hasNullCharacter,
  isValidDeviceId,
  parseCommandTopic,
  parseDeviceTopic,
  roleAtLeast,
  type Role,
} from "@fleetwatch/contracts";
import type { BrokerLimits } from "../config.ts";
import type { Logger } from "../logger.ts";
import { throttleKey } from "../security/client-address.ts";
import { sha256, verifySecret } from "../security/secrets.ts";
import type { Principal } from "./identity.ts";
import { type BrokerCounters, CredentialCache, FailureThrottle, TokenBucket } from "./limits.ts";

/** CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3). */
export const ConnackCode = {
  identifierRejected: 2,
  serverUnavailable: 3,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;
export type RefusalCode = (typeof ConnackCode)[keyof typeof ConnackCode];

/**
 * MQTT 5 CONNACK reason codes (section 3.2.2.2) for refusals that 3.1.1's return codes cannot
 * tell apart. Every other refusal reaches a v5 client as aedes maps its return code
 * (2 → 0x85, 3 → 0x88, 4 → 0x86, 5 → 0x87).
 */
export const ConnackReason = {
  /** A disabled device: it is known and its secret may be right, but it may not connect. */
  banned: 0x8a,
  /** Too many failed CONNECTs from this address: its further attempts are refused unchecked for now. */
  connectionRateExceeded: 0x9f,
} as const;
export type ConnackReasonCode = (typeof ConnackReason)[keyof typeof ConnackReason];

export interface DeviceCredentialRecord {
  id: string;
  disabled: boolean;
  secretHash: string;
  credentialVersion: number;
}

export interface OperatorRecord {
  userId: string;
  email: string;
  role: Role;
}

/** What the gate needs to look up; implemented by the devices and auth repositories. */
export interface GateDirectory {
  findDeviceCredentials(deviceId: string): Promise<DeviceCredentialRecord | null>;
  findOperatorByApiToken(token: string): Promise<OperatorRecord | null>;
}

export interface ConnectRequest {
  /** As sent: "" when the client sent a zero-length identifier. */
  clientId: string;
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5. */
  protocolVersion: number;
  /** The CONNECT's Clean Session (3.1.1) or Clean Start (5) flag. */
  clean: boolean;
  keepalive: number;
  username?: string | undefined;
  password?: Buffer | undefined;
  willTopic?: string | undefined;
  remoteAddress: string;
}

export type ConnectDecision =
  | {
      ok: true;
      principal: Principal;
      /** To call when the connection ends: a device secret the database confirmed stays vouched for until then (see CredentialCache). */
      onClose?: () => void;
    }
  | {
      ok: false;
      returnCode: RefusalCode;
      /** For an MQTT 5 client, when more precise than returnCode's mapping. */
      reasonCode?: ConnackReasonCode;
      reason: string;
    };

/** Per-connection state the publish rules need besides the principal. */
export interface PublisherState {
  principal: Principal;
  /** Devices only: their publish rate limit. */
  bucket?: TokenBucket | undefined;
}

/**
 * Why a PUBLISH is refused, named after the MQTT 5 reason code it maps to (hooks.ts holds the
 * mapping). "protocol-violation" has no PUBACK code: such a packet closes the connection.
 */
export type PublishRefusalReason = "not-authorized" | "quota-exceeded" | "topic-name-invalid" | "implementation-specific-error";

export type PublishDecision =
  | { ok: true }
  | {
      ok: false;
      reason: string;
      refusal: PublishRefusalReason | "protocol-violation";
      counter: "publish_denied" | "publish_rate_exceeded" | "topic_too_long" | "protocol_violation";
    };

/** Username operators use with an API token when they do not give their email. */
export const TOKEN_USERNAME = "token";

export interface GateOptions {
  directory: GateDirectory;
  limits: BrokerLimits;
  allowAnonymous: boolean;
  counters: BrokerCounters;
  logger?: Logger;
}

export interface Gate {
  authenticate(request: ConnectRequest): Promise<ConnectDecision>;
  authorizePublish(state: PublisherState, topic: string): PublishDecision;
  authorizeSubscribe(principal: Principal, filter: string): boolean;
  /** Whether the principal may receive a message on this topic, whichever subscription matched it. */
  mayReceive(principal: Principal, topic: string): boolean;
  /** A new connection's publish state, with the rate limit where one applies. */
  publisherState(principal: Principal): PublisherState;
  /** The device's credentials were rotated, or it was disabled or deleted: this node no longer vouches for its secret. */
  forgetDevice(deviceId: string): void;
}

export function createGate({ directory, limits, allowAnonymous, counters, logger }: GateOptions): Gate {
  // Keyed by source address only (an IPv6 /64), never by client id or user name: a stranger
  // who knows a device's id must not be able to spend that device's allowance.
  const throttle = new FailureThrottle(limits.authFailuresPerMinute);
  const credentials = new CredentialCache(limits.credentialCacheMs);

  const refuse = (
    returnCode: RefusalCode,
    reason: string,
    counter: Parameters<BrokerCounters["increment"]>[0],
    reasonCode?: ConnackReasonCode,
  ): ConnectDecision => {
    counters.increment(counter);
    return { ok: false, returnCode, reason, ...(reasonCode === undefined ? {} : { reasonCode }) };
  };

  /** Topic-only publish rule (no rate), shared by PUBLISH and the Last Will check. */
  function mayPublishTo(principal: Principal, topic: string): boolean {
    // The inter-node control channel is nobody's to write, anonymous development mode included.
    if (topic.startsWith(CONTROL_PREFIX)) return false;
    switch (principal.kind) {
      case "device": {
        const parsed = parseDeviceTopic(topic);
        if (parsed?.deviceId !== principal.deviceId) return false;
        // Under commands/ a device may only answer: a command it published to itself would
        // look to the platform like one an operator sent.
        if (parsed.channel !== "commands") return true;
        const command = parseCommandTopic(topic);
        return command !== null && command.response;
      }
      case "operator":
        return roleAtLeast(principal.role, "operator") && parseDeviceTopic(topic)?.channel === "commands";
      case "anonymous":
        return allowAnonymous;
    }
  }

  async function authenticateDevice(request: ConnectRequest, deviceId: string): Promise<ConnectDecision> {
    // The clientId must be the device's own id, so no device can occupy another's session
    // (taking over a session means presenting its clientId [MQTT-3.1.4-2]).
    if (request.clientId !== deviceId)
      return refuse(ConnackCode.identifierRejected, "clientId must be the device id", "connect_refused_identifier");
    let record: DeviceCredentialRecord | null;
    try {
      record = await directory.findDeviceCredentials(deviceId);
    } catch (error) {
      // The registry cannot be read (a database outage). A secret this node vouched for
      // recently still gets in; its QoS 1/2 messages are acknowledged only once stored, as ever.
      if (request.password?.length && credentials.vouches(deviceId, sha256(request.password))) {
        counters.increment("connect_from_cache");
        return { ok: true, principal: { kind: "device", deviceId } };
      }
      throw error;
    }
    if (!record) return refuse(ConnackCode.notAuthorized, "unknown device", "connect_refused_not_authorized");
    if (!request.password || request.password.length === 0)
      return refuse(ConnackCode.badUsernameOrPassword, "missing password", "connect_refused_credentials");

    const digest = sha256(request.password);
    if (!credentials.matches(deviceId, digest, record.credentialVersion)) {
      if (!(await verifySecret(request.password.toString("utf8"), record.secretHash)))
        return refuse(ConnackCode.badUsernameOrPassword, "wrong password", "connect_refused_credentials");
    }
    // Checked before the secret is remembered: a disabled device must not get in during an outage.
    if (record.disabled)
      return refuse(ConnackCode.notAuthorized, "device is disabled", "connect_refused_not_authorized", ConnackReason.banned);
    credentials.remember(deviceId, digest, record.credentialVersion);
    return { ok: true, principal: { kind: "device", deviceId }, onClose: () => credentials.refresh(deviceId, digest) };
  }

  /** A device whose secret this node vouches for: let in even from a throttled address, without any scrypt work. */
  function vouchedDevice(request: ConnectRequest): boolean {
    const username = request.username ?? "";
    return (
      isValidDeviceId(username) &&
      request.clientId === username &&
      request.password !== undefined &&
      request.password.length > 0 &&
      credentials.vouches(username, sha256(request.password))
    );
  }

  async function authenticateOperator(request: ConnectRequest, username: string): Promise<ConnectDecision> {
    if (!request.password || request.password.length === 0)
      return refuse(ConnackCode.badUsernameOrPassword, "missing API token", "connect_refused_credentials");
    const operator = await directory.findOperatorByApiToken(request.password.toString("utf8"));
    if (!operator || (username !== TOKEN_USERNAME && username.toLowerCase() !== operator.email)) {
      return refuse(ConnackCode.badUsernameOrPassword, "unknown API token", "connect_refused_credentials");
    }
    // Operators may pick any clientId except a registered device's: taking a clientId over
    // closes the connection that holds it [MQTT-3.1.4-2], so an operator's client would
    // displace the device and inherit its session. Checked after the token, so that a stranger
    // cannot probe which device ids exist.
    if (isValidDeviceId(request.clientId) && (await directory.findDeviceCredentials(request.clientId)) !== null)
      return refuse(
        ConnackCode.identifierRejected,
        "rule operator-client-id: an API-token client may use any clientId except a registered device's id",
        "connect_refused_identifier",
      );
    return { ok: true, principal: { kind: "operator", userId: operator.userId, role: operator.role } };
  }

  return {
    async authenticate(request) {
      const v5 = request.protocolVersion === 5;
      // [MQTT-3.1.3-8] a zero-byte ClientId needs CleanSession=1; otherwise 0x02 and close.
      // MQTT 5 assigns one instead, whatever Clean Start says [MQTT-3.1.3-6, MQTT-3.2.2-16]:
      // an operator or anonymous client may take it; a device must present its own id (below).
      if (request.clientId === "" && !request.clean && !v5)
        return refuse(ConnackCode.identifierRejected, "empty clientId requires a clean session", "connect_refused_identifier");
      // MQTT 3.1.1 cannot tell a client to use a shorter keepalive, so, like Mosquitto's
      // max_keepalive, a longer one is refused with 0x02; an MQTT 5 client is told the
      // maximum in CONNACK's Server Keep Alive instead (hooks.ts) [MQTT-3.1.2-21]. Keepalive 0
      // (keepalive off, section 3.1.2.10) stays allowed: some sensors sleep for long, and
      // TCP keepalive probes on our sockets reclaim connections of peers that vanished.
      if (!v5 && request.keepalive > limits.maxKeepaliveS)
        return refuse(ConnackCode.identifierRejected, `keepalive above ${limits.maxKeepaliveS}s`, "connect_refused_keepalive");

      if (request.username === undefined && allowAnonymous) {
        const principal: Principal = { kind: "anonymous" };
        if (request.willTopic !== undefined && !mayPublishTo(principal, request.willTopic))
          return refuse(ConnackCode.notAuthorized, "will topic not allowed", "connect_refused_will");
        return { ok: true, principal };
      }

      const source = throttleKey(request.remoteAddress);
      if (throttle.blocked(source) && !vouchedDevice(request))
        return refuse(
          ConnackCode.serverUnavailable,
          "too many failed attempts from this address; try later",
          "connect_throttled",
          ConnackReason.connectionRateExceeded,
        );

      const username = request.username ?? "";
      let decision: ConnectDecision;
      if (username === "") decision = refuse(ConnackCode.badUsernameOrPassword, "missing username", "connect_refused_credentials");
      else if (username === TOKEN_USERNAME || username.includes("@")) decision = await authenticateOperator(request, username);
      else if (isValidDeviceId(username)) decision = await authenticateDevice(request, username);
      else decision = refuse(ConnackCode.notAuthorized, "unknown device", "connect_refused_not_authorized");

      if (!decision.ok) {
        const failures = throttle.fail(source);
        if (failures === limits.authFailuresPerMinute)
          logger?.warn(
            { address: source, failures },
            "MQTT CONNECT: too many failed attempts from this address; its next attempts this minute are refused unchecked (a device secret this node verified recently still gets in)",
          );
        return decision;
      }
      // The will is published with the client's rights, so it must be a topic the client
      // could publish to itself; a device's stays inside devices/{id}/.
      if (request.willTopic !== undefined && !mayPublishTo(decision.principal, request.willTopic)) {
        return refuse(ConnackCode.notAuthorized, "will topic outside the client's namespace", "connect_refused_will");
      }
      return decision;
    },

    authorizePublish(state, topic) {
      if (hasNullCharacter(topic))
        return {
          ok: false,
          reason: "U+0000 in the topic name [MQTT-1.5.3-2]",
          refusal: "protocol-violation",
          counter: "protocol_violation",
        };
      if (topic.length > limits.maxTopicLength)
        return { ok: false, reason: "topic too long", refusal: "topic-name-invalid", counter: "topic_too_long" };
      if (!mayPublishTo(state.principal, topic))
        return { ok: false, reason: `not allowed to publish to ${topic}`, refusal: "not-authorized", counter: "publish_denied" };
      if (state.bucket && !state.bucket.take())
        return { ok: false, reason: "publish rate exceeded", refusal: "quota-exceeded", counter: "publish_rate_exceeded" };
      return { ok: true };
    },

    authorizeSubscribe(principal, filter) {
      if (filter.length > limits.maxTopicLength) return false;
      if (filter.startsWith(CONTROL_PREFIX) || filter.startsWith("$fleetwatch")) return false;
      switch (principal.kind) {
        case "device":
          return deviceOfFilter(filter) === principal.deviceId;
        case "operator":
          return true;
        case "anonymous":
          return allowAnonymous;
      }
    },

    mayReceive(principal, topic) {
      if (topic.startsWith("$fleetwatch")) return false;
      switch (principal.kind) {
        case "device": {
          // What a filter inside the device's namespace can match (with `#`, the bare parent too) [MQTT-4.7.1-2].
          const root = deviceTopic.root(principal.deviceId);
          return topic === root || topic.startsWith(`${root}/`);
        }
        case "operator":
          return true;
        case "anonymous":
          return allowAnonymous;
      }
    },

    publisherState(principal) {
      return principal.kind === "device" ? { principal, bucket: new TokenBucket(limits.publishRate, limits.publishBurst) } : { principal };
    },

    forgetDevice(deviceId) {
      credentials.forget(deviceId);
    },
  };
}
