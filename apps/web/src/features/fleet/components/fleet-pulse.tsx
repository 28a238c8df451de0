// The fleet's pulse: recent activity drawn from the server's aggregates. Its own chunk
// (the overview loads it lazily), so the charting library stays out of the initial JS.
import { useId, useMemo } from "react";
import { Link } from "react-router";
import type { PulseDevice, PulseSeries } from "@fleetwatch/contracts";
import { LoadError } from "../../../components/query-state.tsx";
import { TimeSeriesChart, type ChartPoint } from "../../../components/time-series-chart.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { useNow } from "../../../lib/use-now.ts";
import { useFleetPulse } from "../api/get-fleet-pulse.ts";
import { describeLastSeen } from "../lib/last-seen.ts";
import "../fleet.css";

const numberFormat = new Intl.NumberFormat();

/**
 * Each bucket drawn at its end (or now, for the bucket still filling): a count of messages
 * or alerts is complete there, and the online count is the state at that moment.
 */
function chartPoints(series: PulseSeries, at: number): ChartPoint[] {
  return series.points.map((point) => ({ t: Math.min(Date.parse(point.time) + series.bucketMs, at), v: point.value }));
}

function PulseChart({
  title,
  summary,
  series,
  at,
  curve,
}: {
  title: string;
  summary: string;
  series: PulseSeries;
  at: number;
  curve: "linear" | "step";
}) {
  const headingId = useId();
  const points = useMemo(() => chartPoints(series, at), [series, at]);
  const first = Date.parse(series.points[0]?.time ?? new Date(at).toISOString());
  return (
    <section className="card pulse-card" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          {title}
        </h2>
        <p className="card__summary pulse-card__figure">{summary}</p>
      </div>
      <TimeSeriesChart label={title} name={title} points={points} range={{ from: first, to: at }} height={140} curve={curve} />
    </section>
  );
}

function DeviceList({
  title,
  devices,
  empty,
  describe,
}: {
  title: string;
  devices: PulseDevice[];
  empty: string;
  describe: (d: PulseDevice) => string;
}) {
  const headingId = useId();
  return (
    <section className="card pulse-card" aria-labelledby={headingId}>
      <h2 id={headingId} className="card__title pulse-card__title">
        {title}
      </h2>
      {devices.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <ol className="pulse-list">
          {devices.map((device) => (
            <li key={device.deviceId} className="pulse-list__item">
              <Link to={`/devices/${encodeURIComponent(device.deviceId)}`}>{device.name}</Link>
              <span className="muted">{describe(device)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Message rate, devices online, alerts raised, top talkers, silent devices and active alerts; kept current. */
export function FleetPulse() {
  const { data, error, refetch } = useFleetPulse();
  const now = useNow(30_000);
  const activeId = useId();
  if (error && !data) return <LoadError what="the fleet's pulse" error={error} retry={() => void refetch()} />;
  if (!data)
    return (
      <p className="muted" aria-busy="true">
        Loading the fleet's pulse…
      </p>
    );
  const at = Date.parse(data.at);
  return (
    <div className="pulse" data-testid="fleet-pulse">
      <PulseChart
        title="Messages per minute"
        summary={`${numberFormat.format(data.messageRate.total)} in the last hour`}
        series={data.messageRate}
        at={at}
        curve="linear"
      />
      <PulseChart
        title="Devices online"
        summary={`${numberFormat.format(data.online.now)} now · last 24 h`}
        series={data.online}
        at={at}
        curve="step"
      />
      <PulseChart
        title="Alerts raised per hour"
        summary={`${numberFormat.format(data.alertsRaised.total)} in the last 24 h`}
        series={data.alertsRaised}
        at={at}
        curve="step"
      />
      <DeviceList
        title="Top talkers (last hour)"
        devices={data.topTalkers}
        empty="No messages in the last hour."
        describe={(d) => `${numberFormat.format(d.messages)} messages`}
      />
      <DeviceList
        title="Most silent"
        devices={data.silent}
        empty="Every device that has connected is online."
        describe={(d) => (d.lastSeenAt ? `last seen ${describeLastSeen(d.lastSeenAt, now)}` : "never seen")}
      />
      <section className="card pulse-card" aria-labelledby={activeId}>
        <h2 id={activeId} className="card__title pulse-card__title">
          Latest active alerts
        </h2>
        {data.activeAlerts.length === 0 ? (
          <p className="muted">No active alerts.</p>
        ) : (
          <ol className="pulse-list">
            {data.activeAlerts.map((alert) => (
              <li key={alert.id} className="pulse-list__item">
                <span>
                  <span className={`badge pulse-severity--${alert.severity}`}>{alert.severity}</span>{" "}
                  <Link to={`/devices/${encodeURIComponent(alert.deviceId)}`}>{alert.deviceId}</Link>: {alert.message}
                </span>
                <time className="muted" dateTime={alert.raisedAt}>
                  {formatDateTime(alert.raisedAt)}
                </time>
              </li>
            ))}
          </ol>
        )}
        <p className="card__meta">
          <Link to="/alerts">All alerts</Link>
        </p>
      </section>
    </div>
  );
}
