import { useMemo, useState } from "react";
import { Link } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { deviceTopic, type Device } from "@fleetwatch/contracts";
import { LoadError, Loading } from "../../../components/query-state.tsx";
import { TimeRangePicker } from "../../../components/time-range-picker.tsx";
import { LAST_HOUR, type TimeRange } from "../../../lib/time-range.ts";
import { ApiRequestError } from "../../../lib/api-client.ts";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { useDevice } from "../api/get-device.ts";
import { useDeviceMetrics } from "../api/get-device-metrics.ts";
import { deviceKeys } from "../api/keys.ts";
import { useLiveReadings } from "../lib/use-live-readings.ts";
import { useTelemetryProblem } from "../lib/use-telemetry-problem.ts";
import { CommandsPanel } from "./commands-panel.tsx";
import { ConnectionDetails } from "./connection-details.tsx";
import { DeviceHeader } from "./device-header.tsx";
import { LiveReadingsPanel } from "./live-readings-panel.tsx";
import { PresenceTimeline, usePresenceUpdates } from "./presence-timeline.tsx";
import { RecentMessages } from "./recent-messages.tsx";
import { RetainedState } from "./retained-state.tsx";
import { TelemetryHistory } from "./telemetry-history.tsx";
import "../device.css";

export function DeviceView({ deviceId }: { deviceId: string }) {
  const device = useDevice(deviceId);

  if (device.error instanceof ApiRequestError && (device.error.status === 404 || device.error.status === 400)) {
    return (
      <>
        <title>Device not found · Fleetwatch</title>
        <h1 className="page-title">Device not found</h1>
        <div className="notice notice--error" role="alert">
          <p>
            There is no device with the id <code>{deviceId}</code>. It may have been deleted, or the address is mistyped.
          </p>
          <p>
            <Link to="/">Go to the fleet overview</Link>
          </p>
        </div>
      </>
    );
  }
  if (device.error) {
    return (
      <>
        <title>Device · Fleetwatch</title>
        <h1 className="page-title">Device {deviceId}</h1>
        <LoadError what="the device" error={device.error} retry={() => void device.refetch()} />
      </>
    );
  }
  if (!device.data) {
    return (
      <>
        <title>Device · Fleetwatch</title>
        <Loading label="Loading the device…" />
      </>
    );
  }
  return <LoadedDevice device={device.data} />;
}

function LoadedDevice({ device }: { device: Device }) {
  const queryClient = useQueryClient();
  const metrics = useDeviceMetrics(device.id);
  const live = useLiveReadings(device.id);
  const telemetryIssue = useTelemetryProblem(device.id);
  // One range for the page's history: the chart, the CSV export and the presence timeline.
  const [range, setRange] = useState<TimeRange>(LAST_HOUR);
  usePresenceUpdates(device.id);

  // Any message from the device means it was just seen (the server records that in batches).
  useLiveMessages(deviceTopic.all(device.id), (batch) => {
    const newest = batch.messages.reduce((latest, message) => Math.max(latest, message.at), 0);
    if (newest === 0) return;
    queryClient.setQueryData<Device>(deviceKeys.device(device.id), (current) =>
      current && (!current.lastSeenAt || Date.parse(current.lastSeenAt) < newest)
        ? { ...current, lastSeenAt: new Date(newest).toISOString() }
        : current,
    );
  });

  const metricNames = useMemo(() => {
    const names = new Set(metrics.data?.metrics.map((entry) => entry.metric));
    for (const metric of live.keys()) names.add(metric);
    return [...names].sort();
  }, [metrics.data, live]);

  return (
    <>
      <title>{`${device.name} · Fleetwatch`}</title>
      <DeviceHeader device={device} />
      <div className="device-grid">
        <LiveReadingsPanel
          deviceId={device.id}
          stored={metrics.data?.metrics}
          storedError={metrics.error}
          retry={() => void metrics.refetch()}
          live={live}
          metrics={metricNames}
          telemetryIssue={telemetryIssue}
        />
        <div className="device-section--wide device-range" role="group" aria-label="History time range">
          <TimeRangePicker value={range} onChange={setRange} />
        </div>
        <TelemetryHistory deviceId={device.id} metrics={metricNames} range={range} />
        {/* Two stacks, so a long retained state does not leave a hole beside the shorter cards. */}
        <div className="device-stack">
          <PresenceTimeline deviceId={device.id} range={range} />
          <RetainedState deviceId={device.id} />
        </div>
        <div className="device-stack">
          <ConnectionDetails deviceId={device.id} />
        </div>
        <CommandsPanel deviceId={device.id} />
        <RecentMessages deviceId={device.id} />
      </div>
    </>
  );
}
