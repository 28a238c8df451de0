import { useId } from "react";
import { Link } from "react-router";
import { LoadError } from "../../../components/query-state.tsx";
import { useFleetSummary } from "../../../lib/fleet-summary.ts";
import "../fleet.css";

const numberFormat = new Intl.NumberFormat();

interface CountProps {
  label: string;
  value: number | undefined;
  to: string;
  tone: "online" | "offline" | "never" | "alerts";
}

function Count({ label, value, to, tone }: CountProps) {
  return (
    <div className={`fleet-count fleet-count--${tone}`}>
      <dt className="fleet-count__label">{label}</dt>
      <dd className="fleet-count__value">
        {/* Each count leads to the devices (or alerts) it counts. */}
        <Link to={to} aria-label={value === undefined ? label : `${numberFormat.format(value)} ${label.toLowerCase()}`}>
          {value === undefined ? "–" : numberFormat.format(value)}
        </Link>
      </dd>
    </div>
  );
}

/** Online, offline, never-seen devices and active alerts; kept current by live events. */
export function FleetCounts() {
  const headingId = useId();
  const { data, error, refetch, isPending } = useFleetSummary();
  return (
    <section className="card fleet-counts" aria-labelledby={headingId} aria-busy={isPending}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Fleet
        </h2>
        <p className="card__summary">{data ? `${numberFormat.format(data.devices.total)} devices` : isPending ? "Loading…" : null}</p>
      </div>
      {error && !data ? <LoadError what="the fleet counts" error={error} retry={() => void refetch()} /> : null}
      {error && data ? (
        <p className="notice notice--warning" role="alert">
          These counts may be out of date: the last refresh failed.
        </p>
      ) : null}
      {error && !data ? null : (
        <dl className="fleet-counts__list">
          <Count label="Online" tone="online" value={data?.devices.online} to="/?status=online" />
          <Count label="Offline" tone="offline" value={data?.devices.offline} to="/?status=offline" />
          <Count label="Never seen" tone="never" value={data?.devices.neverSeen} to="/?status=never" />
          <Count label="Active alerts" tone="alerts" value={data?.alerts.active} to="/alerts" />
        </dl>
      )}
    </section>
  );
}
