import { useCallback, useEffect, useRef, useState } from "react";
import { deviceTopic, type DeviceWithCredentials, type LiveMqttMessage } from "@fleetwatch/contracts";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { DeviceDetailsForm } from "./device-details-form.tsx";
import { DeviceCredentials } from "./device-credentials.tsx";
import { FirstMessage } from "./first-message.tsx";
import "../register-device.css";

type Step = 1 | 2 | 3;
const stepLabels: Record<Step, string> = { 1: "Describe the device", 2: "Copy its credentials", 3: "Wait for its first message" };

export function RegisterDeviceWizard() {
  const [step, setStep] = useState<Step>(1);
  // Kept only in memory: the password is never stored by the dashboard.
  const [issued, setIssued] = useState<DeviceWithCredentials | null>(null);
  const [firstMessage, setFirstMessage] = useState<LiveMqttMessage | null>(null);
  const [liveError, setLiveError] = useState<string | null>(null);
  const stepHeading = useRef<HTMLHeadingElement>(null);

  // Listening starts as soon as the device exists, so a device that publishes while the
  // operator is still reading step 2 is not missed.
  const deviceId = issued?.device.id ?? null;
  useLiveMessages(
    deviceId && !firstMessage ? deviceTopic.all(deviceId) : null,
    useCallback((batch) => {
      const first = batch.messages[0];
      if (first) setFirstMessage((current) => current ?? first);
    }, []),
    setLiveError,
  );

  // Moving between steps moves focus to the new step's heading (keyboard and screen readers).
  const shownStep = useRef(step);
  useEffect(() => {
    if (shownStep.current !== step) stepHeading.current?.focus();
    shownStep.current = step;
  }, [step]);

  const restart = () => {
    setIssued(null);
    setFirstMessage(null);
    setLiveError(null);
    setStep(1);
  };

  return (
    <div className="register">
      <ol className="register__steps" aria-label="Steps">
        {([1, 2, 3] as const).map((n) => (
          <li key={n} className="register__step" aria-current={n === step ? "step" : undefined} data-done={n < step || undefined}>
            <span className="register__step-number" aria-hidden="true">
              {n}
            </span>
            {stepLabels[n]}
          </li>
        ))}
      </ol>
      <h2 className="register__heading" ref={stepHeading} tabIndex={-1}>
        Step {step} of 3: {stepLabels[step]}
      </h2>

      {step === 1 ? (
        <DeviceDetailsForm
          onCreated={(created) => {
            setIssued(created);
            setStep(2);
          }}
        />
      ) : null}

      {step === 2 && issued ? (
        <>
          <DeviceCredentials issued={issued} />
          <div className="register__actions">
            <button type="button" className="button button--primary" onClick={() => setStep(3)}>
              {firstMessage ? "Next: see its first message" : "Next: wait for its first message"}
            </button>
          </div>
        </>
      ) : null}

      {step === 3 && issued ? (
        <>
          <FirstMessage deviceId={issued.device.id} message={firstMessage} liveError={liveError} />
          <div className="register__actions">
            <button type="button" className="button" onClick={() => setStep(2)}>
              Back to the credentials
            </button>
            <button type="button" className="button button--quiet" onClick={restart}>
              Register another device
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}
