import { useEffect, useMemo, useRef, type ReactNode } from "react";
import { Link } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { Device } from "@fleetwatch/contracts";
import { Empty, LoadError, Loading } from "../../../components/query-state.tsx";
import { PAGE_SIZE, devicePageQueryOptions, useDevicePages, type DeviceFilters, type DevicePages } from "../api/get-device-pages.ts";
import { describeLastSeen } from "../lib/last-seen.ts";
import { formatDateTime } from "../../../lib/format.ts";
import { DeviceStatusBadge } from "../../../components/device-status.tsx";
import { useNow } from "../../../lib/use-now.ts";
import "../fleet.css";

/** Fixed, so the virtualiser knows every row's position without measuring it. */
const ROW_HEIGHT = 44;
/** Rows rendered beyond the visible ones, so fast scrolling shows no blank band. */
const OVERSCAN = 12;
const numberFormat = new Intl.NumberFormat();

function rowAt(pages: DevicePages, index: number): Device | undefined {
  return pages.get(Math.floor(index / PAGE_SIZE))?.data?.items[index % PAGE_SIZE];
}

function DeviceRow({ device, now }: { device: Device; now: number }) {
  return (
    <>
      <td role="cell" className="fleet-table__status">
        <DeviceStatusBadge status={device.status} />
        {device.disabled ? <span className="badge">Disabled</span> : null}
      </td>
      <td role="cell" className="fleet-table__device">
        <Link to={`/devices/${encodeURIComponent(device.id)}`} className="fleet-table__name">
          {device.name}
        </Link>
        {device.name !== device.id ? <span className="fleet-table__id">{device.id}</span> : null}
      </td>
      <td role="cell" className="fleet-table__tags">
        {device.tags.length > 0 ? (
          <ul className="tag-list" aria-label="Tags">
            {device.tags.map((tag) => (
              <li key={tag} className="tag">
                {tag}
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">–</span>
        )}
      </td>
      <td role="cell" className="fleet-table__seen">
        {device.status === "online" ? (
          "Connected now"
        ) : device.lastSeenAt ? (
          <time dateTime={device.lastSeenAt} title={formatDateTime(device.lastSeenAt)}>
            {describeLastSeen(device.lastSeenAt, now)}
          </time>
        ) : (
          <span className="muted">Never</span>
        )}
      </td>
    </>
  );
}

interface DeviceTableProps {
  filters: DeviceFilters;
  onClearFilters: () => void;
  /** What to offer when the fleet has no devices at all (a link to register one, for admins). */
  emptyFleet: ReactNode;
  /** Reports the tags of the rows loaded so far (the filter offers them). */
  onTags?: (tags: string[]) => void;
}

/**
 * Every device matching `filters`, in a virtualised table: only the rows in view (plus
 * OVERSCAN) are in the DOM, and only their pages are fetched, so 10,000 devices scroll as
 * smoothly as 10.
 */
export function DeviceTable({ filters, onClearFilters, emptyFleet, onTags }: DeviceTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const now = useNow(30_000);

  // The first page says how many rows there are before any is in view.
  const first = useQuery(devicePageQueryOptions(filters, 0));
  const total = first.data?.total ?? 0;

  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: OVERSCAN,
  });
  const rows = virtualizer.getVirtualItems();
  const pages = useDevicePages(filters, rows[0]?.index ?? 0, rows.at(-1)?.index ?? 0);

  // A new filter starts at the top.
  useEffect(() => {
    virtualizer.scrollToOffset(0);
  }, [filters, virtualizer]);

  // `pages` is a new Map every render: recompute only when a page in view got new data.
  const pagesVersion = [...pages].map(([page, result]) => `${page}@${result.dataUpdatedAt}`).join();
  const loadedTags = useMemo(() => {
    const tags = new Set<string>();
    for (const page of pages.values()) for (const device of page.data?.items ?? []) for (const tag of device.tags) tags.add(tag);
    return [...tags].sort().join("\n");
    // eslint-disable-next-line react-hooks/exhaustive-deps -- pagesVersion stands for `pages` (see above)
  }, [pagesVersion]);
  useEffect(() => onTags?.(loadedTags ? loadedTags.split("\n") : []), [loadedTags, onTags]);

  if (first.isPending) return <Loading label="Loading devices…" />;
  if (first.isError) return <LoadError what="the devices" error={first.error} retry={() => void first.refetch()} />;

  const filtered = Boolean(filters.q || filters.status || filters.tag);
  const failed = [...pages.values()].find((page) => page.isError && !page.data);

  return (
    <div className="fleet-table-wrap">
      <p className="fleet-table__caption" role="status">
        {filtered
          ? `${numberFormat.format(total)} matching ${total === 1 ? "device" : "devices"}`
          : `${numberFormat.format(total)} ${total === 1 ? "device" : "devices"}`}
        {first.isFetching && first.data ? <span className="muted"> · updating…</span> : null}
      </p>
      {failed ? <LoadError what="some of the devices" error={failed.error} retry={() => void failed.refetch()} /> : null}
      {total === 0 ? (
        filtered ? (
          <Empty>
            <p>No devices match these filters.</p>
            <button type="button" className="button" onClick={onClearFilters}>
              Clear filters
            </button>
          </Empty>
        ) : (
          <Empty>{emptyFleet}</Empty>
        )
      ) : (
        // Focusable so that the keyboard can scroll it (arrows, Page Up/Down, Home/End).
        <div ref={scroller} className="fleet-table__scroller" tabIndex={0} role="region" aria-label="Device list, scrollable">
          <table className="fleet-table" role="table" aria-label="Devices" aria-rowcount={total + 1}>
            <thead role="rowgroup" className="fleet-table__head">
              <tr role="row" aria-rowindex={1} className="fleet-table__row">
                <th role="columnheader" scope="col">
                  Status
                </th>
                <th role="columnheader" scope="col">
                  Device
                </th>
                <th role="columnheader" scope="col" className="fleet-table__tags">
                  Tags
                </th>
                <th role="columnheader" scope="col">
                  Last seen
                </th>
              </tr>
            </thead>
            <tbody role="rowgroup" className="fleet-table__body" style={{ height: virtualizer.getTotalSize() }}>
              {rows.map((row) => {
                const device = rowAt(pages, row.index);
                return (
                  <tr
                    key={device?.id ?? `pending-${row.index}`}
                    role="row"
                    aria-rowindex={row.index + 2}
                    aria-busy={device ? undefined : true}
                    className="fleet-table__row"
                    style={{ height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}
                  >
                    {device ? (
                      <DeviceRow device={device} now={now} />
                    ) : (
                      <td role="cell" className="fleet-table__pending" colSpan={4}>
                        Loading…
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
