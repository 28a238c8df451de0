import { useState, type ChangeEvent } from "react";
import { Link } from "react-router";
import type { DeviceImportPreview, DeviceImportResult, ImportRowError } from "@fleetwatch/contracts";
import { FormField } from "../../../components/form-field.tsx";
import { ActionError } from "../../../components/query-state.tsx";
import { useImportDevices, usePreviewImport } from "../api/import-devices.ts";
import { credentialsCsv } from "../credentials-csv.ts";
import "../import-devices.css";

const EXAMPLE = "name,id,description,tags\nBoiler room,boiler-1,basement,heating;floor-0\nRoof sensor,,on the roof,outdoor\n";

/** Paste or upload CSV, preview every row with its errors, import all or nothing, download the credentials once. */
export function ImportDevices() {
  const [text, setText] = useState("");
  const preview = usePreviewImport();
  const importing = useImportDevices();
  const [checked, setChecked] = useState<{ text: string; result: DeviceImportPreview } | null>(null);
  const [created, setCreated] = useState<DeviceImportResult | null>(null);
  const [downloaded, setDownloaded] = useState(false);

  const edit = (value: string) => {
    setText(value);
    // A preview is of the text it checked: any edit asks for a new one.
    setChecked(null);
    preview.reset();
    importing.reset();
  };
  const upload = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) edit(await file.text());
  };
  const check = () => preview.mutate(text, { onSuccess: (result) => setChecked({ text, result }) });
  const run = () =>
    checked &&
    importing.mutate(checked.text, {
      onSuccess: (result) => {
        setCreated(result);
        setChecked(null);
        setText("");
      },
    });
  const download = () => {
    if (!created) return;
    const url = URL.createObjectURL(new Blob([credentialsCsv(created)], { type: "text/csv" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `fleetwatch-credentials-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.csv`;
    link.click();
    URL.revokeObjectURL(url);
    // The only copy of the passwords: once downloaded, the page forgets them.
    setCreated({ created: created.created.map((entry) => ({ ...entry, credentials: { ...entry.credentials, password: "" } })) });
    setDownloaded(true);
  };

  if (created)
    return (
      <section className="card import" aria-label="Imported devices">
        <p role="status" className="import__done">
          Imported {created.created.length} device{created.created.length === 1 ? "" : "s"}.
        </p>
        {downloaded ? (
          <p>The credentials were downloaded. They cannot be shown again: rotate a device's credentials to issue a new password.</p>
        ) : (
          <>
            <p className="notice notice--warning">
              Download the credentials now: their passwords are shown only once, and Fleetwatch keeps only hashes.
            </p>
            <button type="button" className="button button--primary" onClick={download}>
              Download credentials (CSV)
            </button>
          </>
        )}
        <ul className="import__created">
          {created.created.map(({ device }) => (
            <li key={device.id}>
              <Link to={`/devices/${encodeURIComponent(device.id)}`}>{device.name}</Link> <code>{device.id}</code>
            </li>
          ))}
        </ul>
        <button
          type="button"
          className="button"
          onClick={() => {
            setCreated(null);
            setDownloaded(false);
          }}
          disabled={!downloaded}
        >
          Import more
        </button>
      </section>
    );

  return (
    <section className="card import" aria-label="Import devices from CSV">
      <FormField
        label="CSV"
        hint={
          <>
            A header line, then one device per line: <code>name,id,description,tags</code>; only name is required, tags are separated by{" "}
            <code>;</code>. An empty id is derived from the name.
          </>
        }
      >
        {(control) => (
          <textarea
            {...control}
            rows={8}
            spellCheck={false}
            value={text}
            placeholder={EXAMPLE}
            onChange={(event) => edit(event.target.value)}
          />
        )}
      </FormField>
      <FormField label="Or upload a CSV file">
        {(control) => <input {...control} type="file" accept=".csv,text/csv,text/plain" onChange={(event) => void upload(event)} />}
      </FormField>
      <div className="import__buttons">
        <button type="button" className="button" onClick={check} disabled={text.trim() === "" || preview.isPending}>
          {preview.isPending ? "Checking…" : "Preview"}
        </button>
        {checked?.result.importable ? (
          <button type="button" className="button button--primary" onClick={run} disabled={importing.isPending}>
            {importing.isPending
              ? "Importing…"
              : `Import ${checked.result.rows.length} device${checked.result.rows.length === 1 ? "" : "s"}`}
          </button>
        ) : null}
      </div>
      <ActionError error={preview.error} />
      <ActionError error={importing.error} />
      {checked ? <Preview result={checked.result} /> : null}
    </section>
  );
}

function Preview({ result }: { result: DeviceImportPreview }) {
  const errorsOf = (row: number): ImportRowError[] => result.errors.filter((error) => error.row === row);
  return (
    <>
      <p role="status" className={result.importable ? "import__ready" : "notice notice--error"}>
        {result.rows.length === 0
          ? "No rows to import."
          : result.importable
            ? `All ${result.rows.length} rows can be imported. Nothing is written until you import.`
            : `${new Set(result.errors.map((error) => error.row)).size} of ${result.rows.length} rows have errors: fix them and preview again. Nothing is imported until every row is valid.`}
      </p>
      {result.rows.length > 0 ? (
        <div className="table-frame import__frame">
          <table className="table" aria-label="Import preview">
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Tags</th>
                <th scope="col">Problems</th>
              </tr>
            </thead>
            <tbody>
              {result.rows.map((row) => {
                const errors = errorsOf(row.row);
                return (
                  <tr key={row.row} className={errors.length > 0 ? "import__row--bad" : undefined}>
                    <td>{row.row}</td>
                    <td>{row.name || <span className="muted">(none)</span>}</td>
                    <td>{row.id ? <code>{row.id}</code> : <span className="muted">from the name</span>}</td>
                    <td>{row.tags?.join(", ")}</td>
                    <td>
                      {errors.map((error, i) => (
                        <div key={i} className="import__error">
                          {error.field ? <strong>{error.field}: </strong> : null}
                          {error.message}
                        </div>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
