// The Dashboards page: your dashboards and the shared ones, a new one by name, or one
// imported from an export file (checked as JSON here, then against the contract by the server).
import { useId, useState, type ChangeEvent, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { ActionError, LoadError, Loading } from "../../../components/query-state.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { useCreateDashboard, useDashboards, useImportDashboard } from "../api/dashboards.ts";
import { parseDashboardFile } from "../lib/import-file.ts";
import "../dashboards.css";

export function DashboardList() {
  const { data, error, refetch } = useDashboards();
  const create = useCreateDashboard();
  const importing = useImportDashboard();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [fileError, setFileError] = useState<string | null>(null);
  const listId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim() }, { onSuccess: (dashboard) => void navigate(`/dashboards/${dashboard.id}`) });
  };
  const importFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    setFileError(null);
    importing.reset();
    const parsed = parseDashboardFile(await file.text());
    if (!parsed.ok) return setFileError(parsed.error);
    importing.mutate(parsed.value, { onSuccess: (dashboard) => void navigate(`/dashboards/${dashboard.id}`) });
  };

  return (
    <>
      <div className="dashboard-forms">
        <form className="card dashboard-forms__item" onSubmit={submit} aria-label="Create a dashboard">
          <label className="field">
            <span className="field__label">New dashboard</span>
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Name" required maxLength={100} />
          </label>
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            Create
          </button>
          {create.error ? <ActionError error={create.error} /> : null}
        </form>
        <div className="card dashboard-forms__item">
          <label className="field">
            <span className="field__label">Import a dashboard (JSON export file)</span>
            <input type="file" accept="application/json,.json" onChange={(e) => void importFile(e)} />
          </label>
          {fileError ? (
            <p className="notice notice--error" role="alert">
              {fileError}
            </p>
          ) : null}
          {importing.error ? (
            <p className="notice notice--error" role="alert">
              This file is not a dashboard Fleetwatch can import: {importing.error.message}
            </p>
          ) : null}
        </div>
      </div>
      <section className="card" aria-labelledby={listId}>
        <h2 id={listId} className="card__title">
          Dashboards
        </h2>
        {error && !data ? <LoadError what="the dashboards" error={error} retry={() => void refetch()} /> : null}
        {!data && !error ? <Loading /> : null}
        {data && data.items.length === 0 ? <p className="muted">No dashboards yet: create one above.</p> : null}
        {data && data.items.length > 0 ? (
          <ul className="dashboard-list">
            {data.items.map((dashboard) => (
              <li key={dashboard.id} className="dashboard-list__item">
                <Link to={`/dashboards/${dashboard.id}`}>{dashboard.name}</Link>
                <span className="muted">
                  {dashboard.widgetCount} widget{dashboard.widgetCount === 1 ? "" : "s"} · {dashboard.mine ? "yours" : dashboard.ownerEmail}
                  {dashboard.shared ? " · shared" : ""} · {formatDateTime(dashboard.updatedAt)}
                </span>
              </li>
            ))}
          </ul>
        ) : null}
      </section>
    </>
  );
}
