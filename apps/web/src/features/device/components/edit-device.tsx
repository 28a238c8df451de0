import { useId, useState, type FormEvent } from "react";
import type { Device } from "@fleetwatch/contracts";
import { FormField } from "../../../components/form-field.tsx";
import { ActionError } from "../../../components/query-state.tsx";
import { useDeviceTags, useUpdateDevice } from "../api/device-actions.ts";
import {
  editFormValues,
  tagSuggestions,
  takeSuggestion,
  validateEditForm,
  type EditFormErrors,
  type EditFormValues,
} from "../lib/edit-form.ts";

/** Name, description and tags, edited in place. Render it only for operators who may manage the fleet. */
export function EditDevice({ device }: { device: Device }) {
  const [editing, setEditing] = useState(false);
  if (!editing)
    return (
      <button type="button" className="button" onClick={() => setEditing(true)}>
        Edit details
      </button>
    );
  return <EditDeviceForm device={device} onDone={() => setEditing(false)} />;
}

function EditDeviceForm({ device, onDone }: { device: Device; onDone: () => void }) {
  const update = useUpdateDevice(device.id);
  const known = useDeviceTags(true);
  const suggestionsId = useId();
  const [values, setValues] = useState<EditFormValues>(() => editFormValues(device));
  const [errors, setErrors] = useState<EditFormErrors>({});
  const set = (field: keyof EditFormValues) => (value: string) => setValues((current) => ({ ...current, [field]: value }));
  const suggestions = tagSuggestions(values.tags, known.data?.items.map((item) => item.tag) ?? []);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = validateEditForm(device, values);
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    if (!result.changes) return onDone();
    update.mutate(result.changes, { onSuccess: onDone });
  };

  return (
    <form className="form card device-edit" onSubmit={submit} noValidate aria-label="Edit device">
      <FormField label="Name" error={errors.name}>
        {(control) => <input {...control} value={values.name} onChange={(e) => set("name")(e.target.value)} />}
      </FormField>
      <FormField label="Description" error={errors.description}>
        {(control) => <textarea {...control} rows={2} value={values.description} onChange={(e) => set("description")(e.target.value)} />}
      </FormField>
      <FormField label="Tags" error={errors.tags} describedBy={suggestionsId}>
        {(control) => (
          <>
            <input {...control} value={values.tags} autoComplete="off" spellCheck={false} onChange={(e) => set("tags")(e.target.value)} />
            <div className="device-edit__suggestions" id={suggestionsId} aria-live="polite">
              {suggestions.length > 0 ? (
                <>
                  <span className="muted">Tags in use:</span>
                  {suggestions.map((tag) => (
                    <button
                      key={tag}
                      type="button"
                      className="badge device-edit__suggestion"
                      onClick={() => set("tags")(takeSuggestion(values.tags, tag))}
                    >
                      {tag}
                    </button>
                  ))}
                </>
              ) : (
                <span className="field__hint">Separated by commas or spaces.</span>
              )}
            </div>
          </>
        )}
      </FormField>
      {update.error ? <ActionError error={update.error} /> : null}
      <div className="device-edit__buttons">
        <button type="submit" className="button button--primary" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save"}
        </button>
        <button type="button" className="button" onClick={onDone} disabled={update.isPending}>
          Cancel
        </button>
      </div>
    </form>
  );
}
