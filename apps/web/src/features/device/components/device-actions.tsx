import { useId } from "react";
import { useNavigate } from "react-router";
import type { Device } from "@fleetwatch/contracts";
import { ConfirmButton } from "../../../components/confirm-button.tsx";
import { CopyButton } from "../../../components/copy-button.tsx";
import { ActionError } from "../../../components/query-state.tsx";
import { useDeleteDevice, useRotateCredentials, useSetDeviceDisabled } from "../api/device-actions.ts";

/** Rotate, disable/enable and delete. Render it only for operators who may manage the fleet. */
export function DeviceActions({ device }: { device: Device }) {
  const navigate = useNavigate();
  const rotate = useRotateCredentials(device.id);
  const toggle = useSetDeviceDisabled(device.id);
  const remove = useDeleteDevice(device.id, () => void navigate("/"));
  const busy = rotate.isPending || toggle.isPending || remove.isPending;

  return (
    <div className="device-actions">
      <div className="device-actions__buttons" role="group" aria-label="Device actions">
        <ConfirmButton
          title={`Rotate the credentials of ${device.name}?`}
          description={
            <p>
              A new password is issued and shown once. The current one stops working at once: the device must be given the new one to
              connect again.
            </p>
          }
          confirmLabel="Rotate credentials"
          onConfirm={() => rotate.mutate()}
          disabled={busy}
          danger={false}
        >
          Rotate credentials
        </ConfirmButton>
        {device.disabled ? (
          <button type="button" className="button" onClick={() => toggle.mutate(false)} disabled={busy}>
            Enable
          </button>
        ) : (
          <ConfirmButton
            title={`Disable ${device.name}?`}
            description={<p>The broker closes its connection and refuses new ones until you enable it again. Its data stays.</p>}
            confirmLabel="Disable device"
            onConfirm={() => toggle.mutate(true)}
            disabled={busy}
          >
            Disable
          </ConfirmButton>
        )}
        <ConfirmButton
          title={`Delete ${device.name}?`}
          description={
            <p>
              The device <code>{device.id}</code>, its credentials, retained messages and session are removed. It cannot connect again. This
              cannot be undone.
            </p>
          }
          confirmLabel="Delete device"
          onConfirm={() => remove.mutate()}
          disabled={busy}
        >
          Delete
        </ConfirmButton>
      </div>
      <ActionError error={rotate.error ?? toggle.error ?? remove.error} />
      {rotate.data ? <NewPassword password={rotate.data.credentials.password} onDismiss={() => rotate.reset()} /> : null}
    </div>
  );
}

function NewPassword({ password, onDismiss }: { password: string; onDismiss: () => void }) {
  const headingId = useId();
  return (
    <section className="notice notice--success new-password" aria-labelledby={headingId} role="region">
      <h2 id={headingId} className="new-password__title">
        New password
      </h2>
      <p>Copy it now: it is shown only this once. The previous password no longer works.</p>
      <p className="new-password__value">
        <code aria-label="New device password">{password}</code>
        <CopyButton text={password} label="new password" />
      </p>
      <button type="button" className="button button--small" onClick={onDismiss}>
        Done, hide it
      </button>
    </section>
  );
}
