import { useId, useState, type FormEvent, type ReactNode } from "react";
import "../alerts.css";
import { useSearchParams } from "react-router";
import { isValidDeviceId } from "@fleetwatch/contracts";
import { Empty, LoadError, Loading } from "../../../components/query-state.tsx";
import { describeError } from "../../../lib/api-client.ts";
import { useAlerts, type AlertsFilter } from "../api/get-alerts.ts";
import { AlertTable } from "./alert-table.tsx";

type OpenState = "open" | "active" | "acknowledged";
const openStates: readonly { value: OpenState; label: string }[] = [
  { value: "open", label: "All open" },
  { value: "active", label: "Not acknowledged" },
  { value: "acknowledged", label: "Acknowledged" },
];

/** One paged list of alerts with its loading, error and empty states. */
function AlertListSection({
  title,
  filter,
  empty,
  acknowledgeable,
  controls,
}: {
  title: string;
  filter: AlertsFilter;
  empty: ReactNode;
  acknowledgeable: boolean;
  controls?: ReactNode;
}) {
  const headingId = useId();
  const alerts = useAlerts(filter);
  const items = alerts.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="alerts-section" aria-labelledby={headingId}>
      <div className="alerts-section__header">
        <h2 id={headingId} className="alerts-section__title">
          {title}
          {alerts.data ? (
            <span className="badge alerts-section__count">
              {items.length}
              {alerts.hasNextPage ? "+" : ""}
            </span>
          ) : null}
        </h2>
        {controls}
      </div>
      {alerts.isPending ? (
        <Loading label={`Loading ${title.toLowerCase()}…`} />
      ) : alerts.error && !alerts.data ? (
        <LoadError what={title.toLowerCase()} error={alerts.error} retry={() => void alerts.refetch()} />
      ) : items.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <>
          <AlertTable alerts={items} caption={title} acknowledgeable={acknowledgeable} />
          {alerts.hasNextPage ? (
            <button
              type="button"
              className="button alerts-section__more"
              onClick={() => void alerts.fetchNextPage()}
              disabled={alerts.isFetchingNextPage}
            >
              {alerts.isFetchingNextPage ? "Loading…" : "Load older alerts"}
            </button>
          ) : null}
        </>
      )}
      {alerts.error && alerts.data ? (
        <p className="notice notice--warning" role="alert">
          The last refresh failed ({describeError(alerts.error)}); this list may be out of date.
        </p>
      ) : null}
    </section>
  );
}

function DeviceFilter({ deviceId, onChange }: { deviceId: string | undefined; onChange: (deviceId: string | undefined) => void }) {
  const [text, setText] = useState(deviceId ?? "");
  const [invalid, setInvalid] = useState(false);
  const hintId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = text.trim();
    if (value && !isValidDeviceId(value)) return setInvalid(true);
    setInvalid(false);
    onChange(value || undefined);
  };
  return (
    <form className="alerts-filter" role="search" aria-label="Filter alerts" onSubmit={submit}>
      <label className="field">
        <span className="field__label">Device id</span>
        <input
          type="search"
          name="device"
          value={text}
          placeholder="All devices"
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => setText(event.target.value)}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? hintId : undefined}
        />
      </label>
      <button type="submit" className="button">
        Filter
      </button>
      {deviceId ? (
        <button
          type="button"
          className="button button--quiet"
          onClick={() => {
            setText("");
            setInvalid(false);
            onChange(undefined);
          }}
        >
          Show all devices
        </button>
      ) : null}
      {invalid ? (
        <p id={hintId} className="alerts-filter__error" role="alert">
          A device id has lowercase letters, digits and dashes.
        </p>
      ) : null}
    </form>
  );
}

/** Open alerts (active and acknowledged) and the resolved history, filtered by device through ?device=. */
export function AlertLists() {
  const [params, setParams] = useSearchParams();
  const deviceParam = params.get("device");
  const deviceId = deviceParam && isValidDeviceId(deviceParam) ? deviceParam : undefined;
  const [openState, setOpenState] = useState<OpenState>("open");
  const stateId = useId();

  const setDevice = (next: string | undefined) =>
    setParams(
      (current) => {
        const updated = new URLSearchParams(current);
        if (next) updated.set("device", next);
        else updated.delete("device");
        return updated;
      },
      { replace: true },
    );

  const byDevice = deviceId ? { deviceId } : {};
  return (
    <>
      <DeviceFilter key={deviceId ?? ""} deviceId={deviceId} onChange={setDevice} />
      <AlertListSection
        title="Open alerts"
        filter={{ state: openState, ...byDevice }}
        acknowledgeable
        empty={openState === "open" ? "No open alerts. Everything is fine." : "No alerts in this state."}
        controls={
          <div className="alerts-section__controls">
            <label htmlFor={stateId} className="field__label">
              Show
            </label>
            <select id={stateId} value={openState} onChange={(event) => setOpenState(event.target.value as OpenState)}>
              {openStates.map(({ value, label }) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        }
      />
      <AlertListSection
        title="History"
        filter={{ state: "resolved", ...byDevice }}
        acknowledgeable={false}
        empty="No resolved alerts yet."
      />
    </>
  );
}
