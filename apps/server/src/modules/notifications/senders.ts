// How one notification reaches one channel, and what counts as worth retrying:
// - webhook: the JSON body, signed with X-Fleetwatch-Signature: sha256=<hex HMAC-SHA256 of
//   the exact bytes sent, keyed with the channel's secret>;
// - slack: Slack's {"text": ...} incoming-webhook shape (Slack, Mattermost, Rocket.Chat and
//   Discord's /slack endpoint accept it), signed the same way when the channel has a secret;
// - email: through SMTP_URL with nodemailer, a plain-text and an HTML part.
// Retried: network errors, timeouts, HTTP 408, 429 and 5xx, SMTP 4xx (temporary) replies.
// Failed at once: any other HTTP status (redirects are not followed: a webhook URL that
// redirects is a configuration to fix), SMTP 5xx (permanent) replies.
import { createHmac } from "node:crypto";
import { createTransport } from "nodemailer";
import type { NotificationChannelType, WebhookBody } from "@fleetwatch/contracts";

export interface SendResult {
  ok: boolean;
  retryable: boolean;
  responseCode: number | null;
  response: string | null;
  error: string | null;
  durationMs: number;
}

export interface Notification {
  /** The delivery's id, the same on every retry. */
  id: string;
  body: WebhookBody;
  subject: string;
  text: string;
  html: string;
}

export interface Destination {
  type: NotificationChannelType;
  url: string | null;
  secret: string | null;
  recipients: string[];
}

export interface SmtpSettings {
  url: string;
  from: string;
}

/** The longest part of a response kept in the delivery log. */
const RESPONSE_EXCERPT = 500;

export function signature(secret: string, rawBody: string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

export class Senders {
  readonly #mail: ReturnType<typeof createTransport> | null;

  constructor(private readonly options: { timeoutMs: number; smtp: SmtpSettings | null; userAgent: string }) {
    const { smtp, timeoutMs } = options;
    // One transport for the process; no pool: each mail opens its own connection, so a
    // stalled SMTP session holds up that delivery only.
    this.#mail = smtp
      ? createTransport(
          { url: smtp.url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs },
          { from: smtp.from },
        )
      : null;
  }

  get emailConfigured(): boolean {
    return this.#mail !== null;
  }

  /** `stop` aborts an HTTP delivery in flight (the server is shutting down: it is retried later). */
  async send(to: Destination, notification: Notification, stop?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const result = to.type === "email" ? await this.#email(to, notification) : await this.#http(to, notification, stop);
      return { ...result, durationMs: elapsed() };
    } catch (error) {
      return { ok: false, retryable: true, responseCode: null, response: null, error: describe(error), durationMs: elapsed() };
    }
  }

  close(): void {
    this.#mail?.close();
  }

  async #http(to: Destination, notification: Notification, stop?: AbortSignal): Promise<Omit<SendResult, "durationMs">> {
    if (!to.url) return { ok: false, retryable: false, responseCode: null, response: null, error: "the channel has no URL" };
    const raw = JSON.stringify(to.type === "slack" ? { text: notification.text } : notification.body);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": this.options.userAgent,
      "x-fleetwatch-event": notification.body.event,
      "x-fleetwatch-delivery": notification.id,
    };
    if (to.secret) headers["x-fleetwatch-signature"] = signature(to.secret, raw);
    // One deadline for the whole exchange, the response body included: a receiver that
    // trickles its answer is as slow as one that never answers.
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
    const response = await fetch(to.url, { method: "POST", headers, body: raw, redirect: "manual", signal });
    const excerpt = (await response.text()).slice(0, RESPONSE_EXCERPT);
    const code = response.status;
    const ok = code >= 200 && code < 300;
    const retryable = code === 408 || code === 429 || code >= 500;
    return {
      ok,
      retryable: !ok && retryable,
      responseCode: code,
      response: excerpt || null,
      error: ok ? null : code >= 300 && code < 400 ? `HTTP ${code}: redirects are not followed` : `HTTP ${code}`,
    };
  }

  async #email(to: Destination, notification: Notification): Promise<Omit<SendResult, "durationMs">> {
    if (!this.#mail) return { ok: false, retryable: false, responseCode: null, response: null, error: "SMTP_URL is not configured" };
    try {
      // (The SMTP transport's answer: its typings widen to any for a transport built from options.)
      const info: unknown = await this.#mail.sendMail({
        to: to.recipients,
        subject: notification.subject,
        text: notification.text,
        html: notification.html,
        headers: { "X-Fleetwatch-Event": notification.body.event, "X-Fleetwatch-Delivery": notification.id },
      });
      const reply = (info as { response?: string }).response;
      return { ok: true, retryable: false, responseCode: smtpCode(reply), response: reply ?? null, error: null };
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode ?? null;
      const reply = (error as { response?: string }).response ?? null;
      // 4yz replies are transient [RFC 5321 4.2.1]; 5yz permanent; no reply: the connection failed.
      return {
        ok: false,
        retryable: code === null || (code >= 400 && code < 500),
        responseCode: code,
        response: reply,
        error: describe(error),
      };
    }
  }
}

function smtpCode(reply: string | undefined): number | null {
  const match = reply ? /^(\d{3})/.exec(reply) : null;
  return match ? Number(match[1]) : null;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "timed out";
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message;
    return (detail ? `${error.message} (${detail})` : error.message).slice(0, RESPONSE_EXCERPT);
  }
  return String(error).slice(0, RESPONSE_EXCERPT);
}
