// What a notification says: the webhook's JSON body, and the same facts as a subject, a line of
// text (Slack, the mail's plain part) and an HTML part, with a link to the alert.
import type { WebhookBody } from "@fleetwatch/contracts";
import type { Notification } from "./senders.ts";
import type { OutboxPayload } from "./notifications.repository.ts";

const iso = (value: string | null | undefined): string | null => (value ? new Date(value).toISOString() : null);

/** "5 minutes", "30 seconds", "1 hour". */
export function formatWindow(ms: number): string {
  const units: [number, string][] = [
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1_000, "second"],
  ];
  for (const [size, unit] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}${ms / size === 1 ? "" : "s"}`;
  }
  return `${ms} ms`;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

export function renderNotification(deliveryId: string, event: string, payload: OutboxPayload, dashboardUrl: string): Notification {
  const base = dashboardUrl.replace(/\/+$/, "");
  const row = payload.alert;
  const alert: WebhookBody["alert"] = row
    ? {
        id: Number(row.id),
        kind: row.kind,
        severity: row.severity,
        state: row.state,
        message: row.message,
        value: row.value,
        raisedAt: iso(row.raised_at) as string,
        acknowledgedAt: iso(row.acknowledged_at),
        acknowledgedBy: row.acknowledged_by,
        resolvedAt: iso(row.resolved_at),
      }
    : null;
  const device = payload.device ?? (row ? { id: row.device_id, name: row.device_id, tags: [] } : null);
  const link = alert ? `${base}/alerts?alert=${alert.id}` : `${base}/alerts`;

  let text: string;
  let subject: string;
  if (event === "digest") {
    const count = payload.suppressed ?? 0;
    const window = formatWindow(payload.windowMs ?? 0);
    subject = `[Fleetwatch] ${count} more alert${count === 1 ? "" : "s"} in the last ${window}`;
    text = `${count} more alert${count === 1 ? "" : "s"} in the last ${window}, held back by this channel's rate limit. See them all: ${link}`;
  } else if (event === "test") {
    subject = "[Fleetwatch] Test notification";
    text = `Test notification from Fleetwatch: this channel works. Alerts: ${link}`;
  } else if (alert) {
    const who = device ? `${device.name} (${device.id})` : "a device";
    const what =
      event === "alert.raised"
        ? `${alert.severity.toUpperCase()} alert raised`
        : event === "alert.acknowledged"
          ? `Alert acknowledged by ${alert.acknowledgedBy ?? "an operator"}`
          : "Alert resolved";
    subject = `[Fleetwatch] ${what}: ${who}`;
    text = `${what} on ${who}: ${alert.message}. ${link}`;
  } else {
    subject = `[Fleetwatch] ${event}`;
    text = `${event}. ${link}`;
  }

  const body: WebhookBody = {
    id: deliveryId,
    event,
    occurredAt: iso(payload.occurredAt) ?? new Date().toISOString(),
    alert,
    device,
    link,
    text,
    ...(event === "digest" ? { digest: { suppressed: payload.suppressed ?? 0, windowMs: payload.windowMs ?? 0 } } : {}),
  };

  const facts: [string, string][] = [];
  if (alert) {
    facts.push(["Alert", `#${alert.id} (${alert.kind}, ${alert.severity})`], ["Message", alert.message], ["State", alert.state]);
    facts.push(["Raised at", alert.raisedAt]);
    if (alert.acknowledgedAt) facts.push(["Acknowledged", `${alert.acknowledgedAt} by ${alert.acknowledgedBy ?? "an operator"}`]);
    if (alert.resolvedAt) facts.push(["Resolved at", alert.resolvedAt]);
  }
  if (device) facts.push(["Device", `${device.name} (${device.id})${device.tags.length ? `, tags: ${device.tags.join(", ")}` : ""}`]);
  const plain = [text, "", ...facts.map(([k, v]) => `${k}: ${v}`), "", `Open in Fleetwatch: ${link}`].join("\n");
  const html = [
    `<p>${escapeHtml(text)}</p>`,
    facts.length
      ? `<table>${facts.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`
      : "",
    `<p><a href="${escapeHtml(link)}">Open in Fleetwatch</a></p>`,
  ].join("\n");
  return { id: deliveryId, body, subject, text: plain, html };
}
