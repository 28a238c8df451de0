// Whether the device's newest telemetry message gave readings, and if not, why: from the
// message log when the page opens, then from each message as it arrives.
import { useState } from "react";
import { deviceTopic, type LiveMqttMessage, type LoggedMessage } from "@fleetwatch/contracts";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { telemetryProblem, type TelemetryProblem } from "../../../lib/telemetry-format.ts";
import { useRecentMessages } from "../api/get-messages.ts";

export interface TelemetryIssue {
  topic: string;
  problem: TelemetryProblem;
  /** The payload as received (base64 for binary). */
  sample: string;
}

type Message = Pick<LiveMqttMessage, "topic" | "payload" | "encoding">;

function issueOf(message: Message): TelemetryIssue | null {
  const problem = telemetryProblem(message.payload, message.encoding);
  return problem ? { topic: message.topic, problem, sample: message.payload } : null;
}

const fromLog = (message: LoggedMessage): Message => ({
  topic: message.topic,
  payload: message.payload,
  encoding: message.payloadEncoding,
});

/** The problem with the newest telemetry message, or null when it gave readings (or none has come). */
export function useTelemetryProblem(deviceId: string): TelemetryIssue | null {
  const telemetryTopic = deviceTopic.telemetry(deviceId);
  const logged = useRecentMessages(deviceId);
  // undefined: nothing live yet, the log decides.
  const [live, setLive] = useState<TelemetryIssue | null | undefined>(undefined);
  useLiveMessages(deviceTopic.all(deviceId), (batch) => {
    const newest = batch.messages.findLast((message) => message.topic === telemetryTopic);
    if (newest) setLive(issueOf(newest));
  });
  if (live !== undefined) return live;
  const newestLogged = logged.data?.messages.find((message) => message.topic === telemetryTopic);
  return newestLogged ? issueOf(fromLog(newestLogged)) : null;
}
