import { useId, useState } from "react";
import "../alerts.css";
import type { AlertRule } from "@fleetwatch/contracts";
import { ConfirmButton } from "../../../components/confirm-button.tsx";
import { IfCan } from "../../../components/if-can.tsx";
import { ActionError, Empty, LoadError, Loading } from "../../../components/query-state.tsx";
import { useAlertRules, useCreateAlertRule, useDeleteAlertRule, useUpdateAlertRule } from "../api/alert-rules.ts";
import { describeCondition } from "./rule-form-values.ts";
import { RuleForm } from "./rule-form.tsx";

type Editing = { mode: "closed" } | { mode: "create" } | { mode: "edit"; rule: AlertRule };

/** Threshold rules: everyone can read them; admins create, edit and delete (the server's rule). */
export function AlertRulesSection() {
  const headingId = useId();
  const rules = useAlertRules();
  const [editing, setEditing] = useState<Editing>({ mode: "closed" });
  const create = useCreateAlertRule();
  const update = useUpdateAlertRule();
  const remove = useDeleteAlertRule();

  const close = () => {
    create.reset();
    update.reset();
    setEditing({ mode: "closed" });
  };

  return (
    <section className="alerts-section" aria-labelledby={headingId}>
      <div className="alerts-section__header">
        <h2 id={headingId} className="alerts-section__title">
          Threshold rules
        </h2>
        <IfCan action="manage-fleet">
          {editing.mode === "closed" ? (
            <button type="button" className="button button--primary" onClick={() => setEditing({ mode: "create" })}>
              New rule
            </button>
          ) : null}
        </IfCan>
      </div>

      <IfCan action="manage-fleet">
        {editing.mode === "create" ? (
          <RuleForm
            pending={create.isPending}
            error={create.error}
            onCancel={close}
            onSubmit={(body) => create.mutate(body, { onSuccess: close })}
          />
        ) : editing.mode === "edit" ? (
          <RuleForm
            key={editing.rule.id}
            rule={editing.rule}
            pending={update.isPending}
            error={update.error}
            onCancel={close}
            onSubmit={(changes) => update.mutate({ id: editing.rule.id, changes }, { onSuccess: close })}
          />
        ) : null}
        <ActionError error={remove.error} />
      </IfCan>

      {rules.isPending ? (
        <Loading label="Loading rules…" />
      ) : rules.error ? (
        <LoadError what="the alert rules" error={rules.error} retry={() => void rules.refetch()} />
      ) : rules.data.items.length === 0 ? (
        <Empty>No threshold rules yet.</Empty>
      ) : (
        <div className="table-frame">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Applies to</th>
                <th scope="col">Condition</th>
                <th scope="col">Severity</th>
                <th scope="col">Status</th>
                <IfCan action="manage-fleet">
                  <th scope="col">Actions</th>
                </IfCan>
              </tr>
            </thead>
            <tbody>
              {rules.data.items.map((rule) => (
                <tr key={rule.id}>
                  <td>{rule.name}</td>
                  <td>{rule.deviceId !== null ? <>device {rule.deviceId}</> : <>tag {rule.tag}</>}</td>
                  <td>
                    <code>{describeCondition(rule)}</code>
                  </td>
                  <td>
                    <span className={`severity severity--${rule.severity}`}>{rule.severity}</span>
                  </td>
                  <td>{rule.enabled ? "Enabled" : "Disabled"}</td>
                  <IfCan action="manage-fleet">
                    <td className="alerts-table__actions">
                      <button
                        type="button"
                        className="button button--small"
                        aria-label={`Edit rule ${rule.name}`}
                        onClick={() => {
                          update.reset();
                          setEditing({ mode: "edit", rule });
                        }}
                      >
                        Edit
                      </button>
                      <ConfirmButton
                        title={`Delete rule “${rule.name}”?`}
                        description="Its open alerts are resolved, and it raises no new ones."
                        confirmLabel="Delete rule"
                        disabled={remove.isPending}
                        onConfirm={() => {
                          if (editing.mode === "edit" && editing.rule.id === rule.id) close();
                          remove.mutate(rule.id);
                        }}
                      >
                        Delete
                      </ConfirmButton>
                    </td>
                  </IfCan>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
