// Locators for the dashboard's shared pieces that several specs read: the fleet table's rows
// and the device page's live readings.
import type { Locator, Page } from "@playwright/test";

/** The fleet overview's device table. */
export const fleetDevicesTable = (page: Page): Locator => page.getByRole("main").getByRole("table", { name: "Devices" });

/** The fleet overview's device rows (the table body, not its header). */
export const fleetDeviceRows = (page: Page): Locator => fleetDevicesTable(page).getByRole("rowgroup").last().getByRole("row");

/** The fleet table's row whose device link reads `name` (the device's name; its id when it has none). */
export const fleetDeviceRow = (page: Page, name: string): Locator =>
  fleetDeviceRows(page).filter({ has: page.getByRole("link", { name, exact: true }) });

const liveReadings = (page: Page): Locator => page.getByRole("region", { name: "Live readings", exact: true });

/** The device page's latest value of `metric`. */
export const latestReading = (page: Page, metric: string): Locator =>
  liveReadings(page)
    .getByRole("table", { name: "Latest readings" })
    .getByRole("row")
    .filter({ has: page.getByRole("rowheader", { name: metric, exact: true }) })
    .getByRole("cell")
    .first();

/** The device page's live chart of `metric`. */
export const liveChart = (page: Page, metric: string): Locator => liveReadings(page).locator(`figure[data-metric="${metric}"]`);
