import { useId, useState, type FormEvent } from "react";
import type {
  AlertKind,
  CreatedNotificationChannel,
  CreateNotificationChannel,
  DeliveryAttempt,
  NotificationChannel,
  NotificationChannelType,
  NotificationEventType,
  Severity,
} from "@fleetwatch/contracts";
import "../notifications.css";
import { ConfirmButton } from "../../../components/confirm-button.tsx";
import { CopyButton } from "../../../components/copy-button.tsx";
import { FormField } from "../../../components/form-field.tsx";
import { ActionError, Empty, LoadError, Loading } from "../../../components/query-state.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { useCan } from "../../../lib/auth/permissions.ts";
import {
  useCreateChannel,
  useDeleteChannel,
  useDeliveries,
  useNotificationChannels,
  useTestChannel,
  useUpdateChannel,
} from "../api/notification-channels.ts";

const typeLabels: Record<NotificationChannelType, string> = {
  webhook: "Webhook (signed JSON)",
  email: "Email",
  slack: "Slack-compatible webhook",
};
const severities: Severity[] = ["info", "warning", "critical"];
const kinds: AlertKind[] = ["offline", "threshold"];
const eventTypes: { value: NotificationEventType; label: string }[] = [
  { value: "alert.raised", label: "Raised" },
  { value: "alert.acknowledged", label: "Acknowledged" },
  { value: "alert.resolved", label: "Resolved" },
];

/** A comma- or line-separated list, as typed. */
const splitList = (text: string) =>
  text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== "");

interface FormValues {
  name: string;
  type: NotificationChannelType;
  url: string;
  secret: string;
  recipients: string;
  enabled: boolean;
  severities: Severity[];
  alertKinds: AlertKind[];
  eventTypes: NotificationEventType[];
  deviceTags: string;
}

const emptyForm: FormValues = {
  name: "",
  type: "webhook",
  url: "",
  secret: "",
  recipients: "",
  enabled: true,
  severities: [],
  alertKinds: [],
  eventTypes: [],
  deviceTags: "",
};

function formOf(channel: NotificationChannel): FormValues {
  return {
    name: channel.name,
    type: channel.type,
    url: channel.url ?? "",
    secret: "",
    recipients: channel.recipients.join(", "),
    enabled: channel.enabled,
    severities: channel.severities ?? [],
    alertKinds: channel.alertKinds ?? [],
    eventTypes: channel.eventTypes ?? [],
    deviceTags: (channel.deviceTags ?? []).join(", "),
  };
}

/** An empty choice means "all": the API's null. */
const orAll = <T,>(values: T[]) => (values.length === 0 ? null : values);

/** The fields a create or an update sends (the type is sent on create only: it cannot change). */
type ChannelRequest = Omit<CreateNotificationChannel, "type">;

function requestOf(values: FormValues): ChannelRequest {
  const tags = splitList(values.deviceTags);
  return {
    name: values.name.trim(),
    ...(values.type === "email" ? { recipients: splitList(values.recipients) } : { url: values.url.trim() }),
    ...(values.type !== "email" && values.secret !== "" ? { secret: values.secret } : {}),
    enabled: values.enabled,
    severities: orAll(values.severities),
    alertKinds: orAll(values.alertKinds),
    eventTypes: orAll(values.eventTypes),
    deviceTags: orAll(tags),
  };
}

function Choices<T extends string>({
  legend,
  options,
  value,
  onChange,
}: {
  legend: string;
  options: { value: T; label: string }[];
  value: T[];
  onChange: (next: T[]) => void;
}) {
  return (
    <fieldset className="channels__choices">
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value} className="channels__choice">
          <input
            type="checkbox"
            checked={value.includes(option.value)}
            onChange={(event) => onChange(event.target.checked ? [...value, option.value] : value.filter((v) => v !== option.value))}
          />
          {option.label}
        </label>
      ))}
    </fieldset>
  );
}

function ChannelForm({
  initial,
  editing,
  pending,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: FormValues;
  editing: boolean;
  pending: boolean;
  submitLabel: string;
  onSubmit: (values: FormValues) => void;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState(initial);
  const set = <K extends keyof FormValues>(key: K, value: FormValues[K]) => setValues((current) => ({ ...current, [key]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(values);
  };
  return (
    <form className="channels__form" onSubmit={submit}>
      <div className="channels__fields">
        <FormField label="Name">
          {(control) => (
            <input
              {...control}
              name="channel-name"
              required
              maxLength={100}
              value={values.name}
              onChange={(e) => set("name", e.target.value)}
            />
          )}
        </FormField>
        <FormField label="Type">
          {(control) => (
            <select
              {...control}
              name="channel-type"
              value={values.type}
              disabled={editing}
              onChange={(e) => set("type", e.target.value as NotificationChannelType)}
            >
              {(Object.keys(typeLabels) as NotificationChannelType[]).map((type) => (
                <option key={type} value={type}>
                  {typeLabels[type]}
                </option>
              ))}
            </select>
          )}
        </FormField>
        {values.type === "email" ? (
          <FormField label="Recipients" className="channels__wide">
            {(control) => (
              <input
                {...control}
                name="channel-recipients"
                required
                placeholder="oncall@example.com, lead@example.com"
                value={values.recipients}
                onChange={(e) => set("recipients", e.target.value)}
              />
            )}
          </FormField>
        ) : (
          <>
            <FormField label="URL" className="channels__wide">
              {(control) => (
                <input
                  {...control}
                  name="channel-url"
                  type="url"
                  required
                  placeholder="https://example.com/hooks/fleetwatch"
                  value={values.url}
                  onChange={(e) => set("url", e.target.value)}
                />
              )}
            </FormField>
            <FormField
              label="Signing secret"
              className="channels__wide"
              hint={
                editing
                  ? "Leave blank to keep the current secret."
                  : values.type === "webhook"
                    ? "At least 16 characters; leave blank to have one generated (shown once)."
                    : "Optional: signs the requests too."
              }
            >
              {(control) => (
                <input
                  {...control}
                  name="channel-secret"
                  type="password"
                  autoComplete="off"
                  minLength={16}
                  value={values.secret}
                  onChange={(e) => set("secret", e.target.value)}
                />
              )}
            </FormField>
          </>
        )}
      </div>
      <details className="channels__routing" open={initial.severities.length + initial.alertKinds.length + initial.eventTypes.length > 0}>
        <summary>Routing (default: every alert event)</summary>
        <Choices
          legend="Severities"
          options={severities.map((s) => ({ value: s, label: s }))}
          value={values.severities}
          onChange={(v) => set("severities", v)}
        />
        <Choices
          legend="Alert kinds"
          options={kinds.map((k) => ({ value: k, label: k }))}
          value={values.alertKinds}
          onChange={(v) => set("alertKinds", v)}
        />
        <Choices legend="Events" options={eventTypes} value={values.eventTypes} onChange={(v) => set("eventTypes", v)} />
        <FormField label="Device tags (any of)">
          {(control) => (
            <input
              {...control}
              name="channel-tags"
              placeholder="e.g. freezer, site-a"
              value={values.deviceTags}
              onChange={(e) => set("deviceTags", e.target.value)}
            />
          )}
        </FormField>
      </details>
      <label className="channels__choice">
        <input type="checkbox" name="channel-enabled" checked={values.enabled} onChange={(e) => set("enabled", e.target.checked)} />
        Enabled
      </label>
      <div className="channels__actions">
        <button type="submit" className="button button--primary" disabled={pending}>
          {pending ? "Saving…" : submitLabel}
        </button>
        {onCancel ? (
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function DeliveryLog({ channel }: { channel: NotificationChannel }) {
  const log = useDeliveries(channel.id);
  if (log.isPending) return <Loading label="Loading the delivery log…" />;
  if (log.error) return <LoadError what="the delivery log" error={log.error} retry={() => void log.refetch()} />;
  if (log.data.items.length === 0) return <Empty>Nothing sent yet.</Empty>;
  return (
    <div className="table-frame">
      <table className="table channels__log">
        <caption className="visually-hidden">Delivery log of {channel.name}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Try</th>
            <th scope="col">Outcome</th>
            <th scope="col">Response</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {log.data.items.map((attempt: DeliveryAttempt) => (
            <tr key={attempt.id}>
              <td data-label="Time">
                <time dateTime={attempt.at}>{formatDateTime(attempt.at)}</time>
              </td>
              <td data-label="Event">
                {attempt.event}
                {attempt.alertId !== null ? ` #${attempt.alertId}` : ""}
              </td>
              <td data-label="Try">{attempt.attempt}</td>
              <td data-label="Outcome">
                <span className={`channels__outcome channels__outcome--${attempt.outcome}`}>{attempt.outcome}</span>
              </td>
              <td data-label="Response" className="channels__response">
                {[attempt.responseCode, attempt.error].filter((part) => part !== null).join(" · ") || "—"}
              </td>
              <td data-label="Took">{attempt.durationMs} ms</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ChannelCard({ channel, canManage }: { channel: NotificationChannel; canManage: boolean }) {
  const [editing, setEditing] = useState(false);
  const [showLog, setShowLog] = useState(false);
  const update = useUpdateChannel();
  const remove = useDeleteChannel();
  const test = useTestChannel();
  const headingId = useId();
  const target = channel.type === "email" ? channel.recipients.join(", ") : (channel.url ?? "");
  const routes = [
    channel.severities && `severities: ${channel.severities.join(", ")}`,
    channel.alertKinds && `kinds: ${channel.alertKinds.join(", ")}`,
    channel.eventTypes && `events: ${channel.eventTypes.map((e) => e.replace("alert.", "")).join(", ")}`,
    channel.deviceTags && `tags: ${channel.deviceTags.join(", ")}`,
  ].filter(Boolean);
  return (
    <li className="card channels__card" aria-labelledby={headingId} data-channel-id={channel.id}>
      <div className="channels__head">
        <h3 id={headingId} className="card__title">
          {channel.name}
        </h3>
        <span className="badge">{typeLabels[channel.type]}</span>
        <span className={`badge ${channel.enabled ? "channels__on" : "channels__off"}`}>{channel.enabled ? "Enabled" : "Disabled"}</span>
      </div>
      <p className="channels__target">{target}</p>
      <p className="muted channels__routes">{routes.length ? routes.join(" · ") : "Every alert event"}</p>
      {editing ? (
        <ChannelForm
          initial={formOf(channel)}
          editing
          pending={update.isPending}
          submitLabel="Save changes"
          onCancel={() => setEditing(false)}
          onSubmit={(values) => {
            update.mutate({ id: channel.id, changes: requestOf(values) }, { onSuccess: () => setEditing(false) });
          }}
        />
      ) : null}
      <div className="channels__actions">
        {canManage && !editing ? (
          <>
            <button type="button" className="button button--small" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button
              type="button"
              className="button button--small"
              disabled={update.isPending}
              onClick={() => update.mutate({ id: channel.id, changes: { enabled: !channel.enabled } })}
            >
              {channel.enabled ? "Disable" : "Enable"}
            </button>
            <button type="button" className="button button--small" disabled={test.isPending} onClick={() => test.mutate(channel.id)}>
              {test.isPending ? "Sending…" : "Send test"}
            </button>
            <ConfirmButton
              title={`Delete “${channel.name}”?`}
              description="Its queued notifications and its delivery log go with it. This cannot be undone."
              confirmLabel="Delete channel"
              disabled={remove.isPending}
              onConfirm={() => remove.mutate(channel.id)}
            >
              Delete
            </ConfirmButton>
          </>
        ) : null}
        <button type="button" className="button button--small button--quiet" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
          {showLog ? "Hide delivery log" : "Delivery log"}
        </button>
      </div>
      {test.data ? (
        <p role="status" className={`notice ${test.data.ok ? "channels__test-ok" : "notice--error"}`}>
          Test {test.data.ok ? "delivered" : "failed"}
          {test.data.responseCode !== null ? `: ${test.data.responseCode}` : ""}
          {test.data.error ? ` (${test.data.error})` : ""} in {test.data.durationMs} ms.
        </p>
      ) : null}
      <ActionError error={update.error ?? remove.error ?? test.error} />
      {showLog ? <DeliveryLog channel={channel} /> : null}
    </li>
  );
}

function NewSecret({ created, onDone }: { created: CreatedNotificationChannel; onDone: () => void }) {
  const secretId = useId();
  return (
    <div className="notice channels__secret" role="status">
      <p>
        “{created.name}” signs every request with this secret. Copy it now: it is shown only this once. Verify{" "}
        <code>X-Fleetwatch-Signature: sha256=&lt;HMAC-SHA256 of the body&gt;</code> with it.
      </p>
      <div className="channels__secret-row">
        <label className="visually-hidden" htmlFor={secretId}>
          Signing secret
        </label>
        <input id={secretId} className="code" readOnly value={created.secret} onFocus={(event) => event.target.select()} />
        <CopyButton text={created.secret ?? ""} label="the signing secret" />
      </div>
      <button type="button" className="button" onClick={onDone}>
        Done, I have copied it
      </button>
    </div>
  );
}

/** Settings → Notifications: where alerts are sent. Everyone signed in reads; admins change. */
export function NotificationsSection() {
  const headingId = useId();
  const channels = useNotificationChannels();
  const create = useCreateChannel();
  const canManage = useCan("manage-notifications");
  const [adding, setAdding] = useState(false);
  const [formKey, setFormKey] = useState(0);
  const [created, setCreated] = useState<CreatedNotificationChannel | null>(null);

  return (
    <section className="channels" id="notifications" aria-labelledby={headingId}>
      <h2 id={headingId} className="channels__title">
        Notifications
      </h2>
      <p className="muted">Where alerts are sent when they are raised, acknowledged or resolved. Failed deliveries are retried.</p>
      {created?.secret ? <NewSecret created={created} onDone={() => setCreated(null)} /> : null}
      {channels.isPending ? (
        <Loading label="Loading notification channels…" />
      ) : channels.error ? (
        <LoadError what="notification channels" error={channels.error} retry={() => void channels.refetch()} />
      ) : channels.data.items.length === 0 ? (
        <Empty>No channels yet: alerts show only in the dashboard.</Empty>
      ) : (
        <ul className="channels__list">
          {channels.data.items.map((channel) => (
            <ChannelCard key={channel.id} channel={channel} canManage={canManage} />
          ))}
        </ul>
      )}
      {canManage ? (
        adding ? (
          <section className="card channels__add" aria-label="Add a channel">
            <h3 className="card__title">Add a channel</h3>
            <ChannelForm
              key={formKey}
              initial={emptyForm}
              editing={false}
              pending={create.isPending}
              submitLabel="Add channel"
              onCancel={() => setAdding(false)}
              onSubmit={(values) => {
                const body = requestOf(values);
                create.mutate(
                  { ...body, type: values.type },
                  {
                    onSuccess: (channel) => {
                      setCreated(channel);
                      setAdding(false);
                      setFormKey((key) => key + 1);
                    },
                  },
                );
              }}
            />
            <ActionError error={create.error} />
          </section>
        ) : (
          <button type="button" className="button button--primary channels__add-button" onClick={() => setAdding(true)}>
            Add a channel
          </button>
        )
      ) : null}
    </section>
  );
}
