import { useId, useState, type FormEvent } from "react";
import { COMMAND_TIMEOUT_DEFAULT_S, type Command } from "@fleetwatch/contracts";
import { FormField } from "../../../components/form-field.tsx";
import { Empty, Loading, LoadError, ActionError } from "../../../components/query-state.tsx";
import { IfCan } from "../../../components/if-can.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { displayPayload } from "../../../lib/payload.ts";
import { useCommandUpdates, useCommands, useSendCommand } from "../api/commands.ts";
import { validateCommandForm, type CommandFormErrors, type CommandFormValues } from "../lib/command-form.ts";

const STATUS_TIME: Record<Command["status"], keyof Command> = {
  queued: "queuedAt",
  sent: "sentAt",
  delivered: "deliveredAt",
  responded: "respondedAt",
  expired: "expiredAt",
  failed: "failedAt",
};

/** Send a command (operators and admins) and follow the device's commands, live. */
export function CommandsPanel({ deviceId }: { deviceId: string }) {
  const headingId = useId();
  const commands = useCommands(deviceId);
  useCommandUpdates(deviceId);

  return (
    <section className="card device-section device-section--wide" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Commands
        </h2>
        <p className="card__summary">sent on devices/{deviceId}/commands/…, answered on …/response</p>
      </div>
      <IfCan action="manage-fleet">
        <CommandForm deviceId={deviceId} />
      </IfCan>
      {commands.error ? (
        <LoadError what="the commands" error={commands.error} retry={() => void commands.refetch()} />
      ) : !commands.data ? (
        <Loading label="Loading commands…" />
      ) : commands.data.items.length === 0 ? (
        <Empty>No commands sent to this device yet.</Empty>
      ) : (
        <div className="table-frame commands__frame">
          <table className="table commands" aria-label="Command history">
            <thead>
              <tr>
                <th scope="col">Sent</th>
                <th scope="col">Command</th>
                <th scope="col">Status</th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {commands.data.items.map((command) => (
                <CommandRow key={command.id} command={command} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CommandRow({ command }: { command: Command }) {
  const at = command[STATUS_TIME[command.status]];
  return (
    <tr data-command-id={command.id}>
      <td className="commands__time">
        {formatDateTime(command.createdAt)}
        <div className="muted">by {command.sentBy}</div>
      </td>
      <td>
        <code>{command.name}</code>
        {command.params !== null && command.params !== undefined ? (
          <pre className="code commands__params">{JSON.stringify(command.params)}</pre>
        ) : null}
      </td>
      <td>
        <span className={`command-status command-status--${command.status}`} data-testid="command-status">
          {command.status}
        </span>
        {typeof at === "string" ? <div className="muted">{formatDateTime(at)}</div> : null}
        {command.error ? <div className="muted">{command.error}</div> : null}
      </td>
      <td>
        {command.response ? (
          <>
            {command.response.ok !== null ? <span className="badge">{command.response.ok ? "ok" : "not ok"}</span> : null}
            <pre className="code commands__response">{displayPayload(command.response).text}</pre>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

function CommandForm({ deviceId }: { deviceId: string }) {
  const send = useSendCommand(deviceId);
  const [values, setValues] = useState<CommandFormValues>({ name: "", params: "", timeout: String(COMMAND_TIMEOUT_DEFAULT_S) });
  const [errors, setErrors] = useState<CommandFormErrors>({});
  const set = (field: keyof CommandFormValues) => (value: string) => setValues((current) => ({ ...current, [field]: value }));

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = validateCommandForm(values);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    send.mutate(result.body);
  };

  return (
    <form className="form commands__form" onSubmit={submit} noValidate aria-label="Send a command">
      <div className="commands__fields">
        <FormField label="Name" error={errors.name}>
          {(control) => (
            <input
              {...control}
              value={values.name}
              placeholder="reboot"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set("name")(e.target.value)}
            />
          )}
        </FormField>
        <FormField label="Timeout (s)" error={errors.timeout}>
          {(control) => <input {...control} value={values.timeout} inputMode="numeric" onChange={(e) => set("timeout")(e.target.value)} />}
        </FormField>
      </div>
      <FormField label="Params (JSON, optional)" error={errors.params}>
        {(control) => (
          <textarea
            {...control}
            rows={2}
            value={values.params}
            placeholder='{"seconds": 10}'
            spellCheck={false}
            onChange={(e) => set("params")(e.target.value)}
          />
        )}
      </FormField>
      {send.error ? <ActionError error={send.error} /> : null}
      <div>
        <button type="submit" className="button button--primary" disabled={send.isPending}>
          {send.isPending ? "Sending…" : "Send command"}
        </button>
      </div>
    </form>
  );
}
