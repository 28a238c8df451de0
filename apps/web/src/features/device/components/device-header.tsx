import type { Device } from "@fleetwatch/contracts";
import { DeviceStatusBadge } from "../../../components/device-status.tsx";
import { IfCan } from "../../../components/if-can.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { DeviceActions } from "./device-actions.tsx";
import { EditDevice } from "./edit-device.tsx";

export function DeviceHeader({ device }: { device: Device }) {
  return (
    <header className="device-header">
      <div className="device-header__main">
        <h1 className="page-title device-header__title">{device.name}</h1>
        <dl className="device-facts">
          <div>
            <dt>Id</dt>
            <dd>
              <code>{device.id}</code>
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              {/* Announced when presence changes live. */}
              <span role="status" className="device-facts__status">
                <DeviceStatusBadge status={device.status} />
                {device.disabled ? <span className="badge badge--warning">Disabled</span> : null}
              </span>
            </dd>
          </div>
          <div>
            <dt>Last seen</dt>
            <dd>{device.lastSeenAt ? <time dateTime={device.lastSeenAt}>{formatDateTime(device.lastSeenAt)}</time> : "never"}</dd>
          </div>
          <div>
            <dt>Tags</dt>
            <dd>
              {device.tags.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                <ul className="tags" aria-label="Tags">
                  {device.tags.map((tag) => (
                    <li key={tag} className="badge">
                      {tag}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        </dl>
        {device.description ? <p className="device-header__description">{device.description}</p> : null}
        <IfCan action="manage-fleet">
          <EditDevice device={device} />
        </IfCan>
      </div>
      <IfCan action="manage-fleet">
        <DeviceActions device={device} />
      </IfCan>
    </header>
  );
}
