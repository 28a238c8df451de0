// Notification channels: their rules (what a webhook, email or Slack channel needs, which URLs
// and addresses are acceptable), write-only secrets, and test sends.
import { randomBytes } from "node:crypto";
import type {
  CreateNotificationChannel,
  CreatedNotificationChannel,
  DeliveryAttempt,
  NotificationChannel,
  NotificationTestResult,
  Role,
  UpdateNotificationChannel,
} from "@fleetwatch/contracts";
import { NOTIFICATION_LIMITS, roleAtLeast } from "@fleetwatch/contracts";
import { ApiProblem } from "../../http/errors.ts";
import type { ChannelFields, NotificationsRepository } from "./notifications.repository.ts";
import { renderNotification } from "./render.ts";
import type { Senders } from "./senders.ts";

const notFound = (id: string): never => {
  throw new ApiProblem(404, `no notification channel ${id}`);
};

// Deliberately plain: a local part and a domain with a dot, nothing that could end a header
// (CR, LF), separate two addresses (comma, semicolon) or open a display name (<, >, quotes).
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** An http(s) URL without credentials in it (they would show to every reader of the channel list). */
export function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ApiProblem(400, `url is not a valid URL: ${JSON.stringify(value.slice(0, 100))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ApiProblem(400, `url must be http:// or https:// (got ${url.protocol})`);
  if (url.username || url.password)
    throw new ApiProblem(400, "url must not contain a user name or password: set the channel's secret instead");
  if (CONTROL.test(value)) throw new ApiProblem(400, "url must not contain control characters");
  return url.toString();
}

export function checkRecipients(values: string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const value of values) {
    const address = value.trim();
    if (!EMAIL.test(address)) throw new ApiProblem(400, `recipients: ${JSON.stringify(value.slice(0, 100))} is not an email address`);
    const key = address.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      result.push(address);
    }
  }
  return result;
}

function checkName(value: string): string {
  const name = value.trim();
  if (name.length === 0) throw new ApiProblem(400, "name must not be blank");
  if (CONTROL.test(name)) throw new ApiProblem(400, "name must not contain control characters");
  return name;
}

/**
 * A webhook URL often is its own credential (a Slack or Teams incoming-webhook URL lets anyone
 * who has it post), so only admins, who may change channels, see it whole; anyone else sees
 * where it points: its origin. (User info in a URL is not part of its origin either.)
 */
export function visibleTo(role: Role, channel: NotificationChannel): NotificationChannel {
  if (roleAtLeast(role, "admin") || channel.url === null) return channel;
  let origin: string;
  try {
    origin = new URL(channel.url).origin;
  } catch {
    origin = "";
  }
  return { ...channel, url: `${origin}/…` };
}

export class NotificationsService {
  constructor(
    private readonly repository: NotificationsRepository,
    private readonly senders: Senders,
    private readonly options: { dashboardUrl: string; maxTestTimeoutMs?: number },
  ) {}

  /** Channels as `role` may see them (see `visibleTo`). */
  async list(role: Role): Promise<NotificationChannel[]> {
    return (await this.repository.list()).map((channel) => visibleTo(role, channel));
  }

  async get(id: string, role: Role): Promise<NotificationChannel> {
    const channel = (await this.repository.get(id)) ?? notFound(id);
    const { secret: _secret, ...visible } = channel;
    return visibleTo(role, visible);
  }

  async create(input: CreateNotificationChannel): Promise<CreatedNotificationChannel> {
    // A webhook is always signed: without a secret given, one is generated and shown once.
    const generated = input.type === "webhook" && input.secret === undefined ? randomBytes(32).toString("hex") : undefined;
    const fields = this.#check({
      name: input.name,
      type: input.type,
      url: input.url ?? null,
      secret: input.secret ?? generated ?? null,
      recipients: input.recipients ?? [],
      enabled: input.enabled ?? true,
      severities: input.severities ?? null,
      alertKinds: input.alertKinds ?? null,
      deviceTags: input.deviceTags ?? null,
      eventTypes: input.eventTypes ?? null,
    });
    const created = await this.repository.create(fields);
    return generated ? { ...created, secret: generated } : created;
  }

  async update(id: string, changes: UpdateNotificationChannel): Promise<NotificationChannel> {
    const current = (await this.repository.get(id)) ?? notFound(id);
    const fields = this.#check({
      name: changes.name ?? current.name,
      type: current.type,
      url: changes.url !== undefined ? changes.url : current.url,
      secret: changes.secret ?? current.secret,
      recipients: changes.recipients ?? current.recipients,
      enabled: changes.enabled ?? current.enabled,
      severities: changes.severities !== undefined ? changes.severities : current.severities,
      alertKinds: changes.alertKinds !== undefined ? changes.alertKinds : current.alertKinds,
      deviceTags: changes.deviceTags !== undefined ? changes.deviceTags : current.deviceTags,
      eventTypes: changes.eventTypes !== undefined ? changes.eventTypes : current.eventTypes,
    });
    return (await this.repository.update(id, fields)) ?? notFound(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repository.delete(id))) notFound(id);
  }

  async deliveries(id: string, limit: number): Promise<DeliveryAttempt[]> {
    if (!(await this.repository.get(id))) notFound(id);
    return this.repository.attempts(id, limit);
  }

  /** Sends a test notification now (enabled or not) and answers with what the receiver said; logged like any attempt. */
  async test(id: string): Promise<NotificationTestResult> {
    const channel = (await this.repository.get(id)) ?? notFound(id);
    const notification = renderNotification(
      `test-${Date.now()}`,
      "test",
      { occurredAt: new Date().toISOString() },
      this.options.dashboardUrl,
    );
    const result = await this.senders.send(channel, notification);
    await this.repository.recordAttempt({
      channelId: id,
      outboxId: null,
      event: "test",
      alertId: null,
      attempt: 1,
      outcome: result.ok ? "delivered" : "failed",
      responseCode: result.responseCode,
      response: result.response,
      error: result.error,
      durationMs: result.durationMs,
    });
    return {
      ok: result.ok,
      responseCode: result.responseCode,
      response: result.response,
      error: result.error,
      durationMs: result.durationMs,
    };
  }

  /** The rules of each kind of channel, on the fields as they will be stored. */
  #check(fields: ChannelFields): ChannelFields {
    const name = checkName(fields.name);
    if (fields.type === "email") {
      if (fields.url !== null) throw new ApiProblem(400, "an email channel has recipients, not a url");
      if (fields.secret !== null) throw new ApiProblem(400, "an email channel takes no secret (only webhooks are signed)");
      if (fields.recipients.length === 0) throw new ApiProblem(400, "an email channel needs at least one address in recipients");
      if (!this.senders.emailConfigured)
        throw new ApiProblem(400, "email channels need SMTP_URL and SMTP_FROM in the server's configuration");
      const recipients = checkRecipients(fields.recipients);
      if (recipients.length > NOTIFICATION_LIMITS.recipients) throw new ApiProblem(400, "too many recipients");
      return { ...fields, name, secret: null, recipients };
    }
    if (fields.url === null) throw new ApiProblem(400, `a ${fields.type} channel needs a url`);
    if (fields.recipients.length > 0) throw new ApiProblem(400, `a ${fields.type} channel has a url, not recipients`);
    return { ...fields, name, url: checkUrl(fields.url) };
  }
}
