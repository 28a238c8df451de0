import { useId, useState, type FormEvent, type ReactNode } from "react";
import type { DeviceWithCredentials } from "@fleetwatch/contracts";
import { ApiRequestError } from "../../../lib/api-client.ts";
import { ActionError } from "../../../components/query-state.tsx";
import { useCreateDevice } from "../api/create-device.ts";
import {
  fieldOfApiError,
  idRule,
  validateDeviceForm,
  type DeviceField,
  type DeviceFormErrors,
  type DeviceFormValues,
} from "../device-form.ts";

/** Step 1: name, id and tags → POST /api/devices. */
export function DeviceDetailsForm({ onCreated }: { onCreated: (issued: DeviceWithCredentials) => void }) {
  const createDevice = useCreateDevice();
  const [values, setValues] = useState<DeviceFormValues>({ name: "", id: "", tags: "" });
  const [errors, setErrors] = useState<DeviceFormErrors>({});
  const ids = { name: useId(), id: useId(), tags: useId() };

  const set = (field: DeviceField) => (text: string) => {
    setValues((current) => ({ ...current, [field]: text }));
    // An error stays until the field it is about changes.
    setErrors((current) => {
      const { [field]: _dropped, ...rest } = current;
      return rest;
    });
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const checked = validateDeviceForm(values);
    if (!checked.ok) {
      setErrors(checked.errors);
      focusFirstInvalid(event.currentTarget, checked.errors, ids);
      return;
    }
    const form = event.currentTarget;
    createDevice.mutate(checked.body, {
      onSuccess: onCreated,
      onError: (error) => {
        const fieldError = error instanceof ApiRequestError ? fieldOfApiError(error.status, error.body) : null;
        if (!fieldError) return; // shown under the form by <ActionError>
        const next = { [fieldError.field]: fieldError.message };
        setErrors(next);
        focusFirstInvalid(form, next, ids);
      },
    });
  };

  const fieldError =
    createDevice.error instanceof ApiRequestError ? fieldOfApiError(createDevice.error.status, createDevice.error.body) : null;

  return (
    <form className="form register-form" onSubmit={submit} noValidate>
      <Field id={ids.name} label="Name" error={errors.name} hint="How people will recognise it, e.g. Boiler room sensor.">
        <input
          id={ids.name}
          name="name"
          required
          maxLength={200}
          autoComplete="off"
          value={values.name}
          onChange={(e) => set("name")(e.target.value)}
          {...invalidProps(ids.name, errors.name)}
          autoFocus
        />
      </Field>
      <Field
        id={ids.id}
        label="Device id (optional)"
        error={errors.id}
        hint={`Also its MQTT client id and user name. Left empty, it is made from the name. ${idRule}`}
      >
        <input
          id={ids.id}
          name="id"
          maxLength={64}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          value={values.id}
          onChange={(e) => set("id")(e.target.value)}
          {...invalidProps(ids.id, errors.id)}
        />
      </Field>
      <Field id={ids.tags} label="Tags (optional)" error={errors.tags} hint="Separated by commas or spaces, e.g. heating, floor-1.">
        <input
          id={ids.tags}
          name="tags"
          autoComplete="off"
          value={values.tags}
          onChange={(e) => set("tags")(e.target.value)}
          {...invalidProps(ids.tags, errors.tags)}
        />
      </Field>
      {createDevice.error && !fieldError ? <ActionError error={createDevice.error} /> : null}
      <div>
        <button type="submit" className="button button--primary" disabled={createDevice.isPending}>
          {createDevice.isPending ? "Registering…" : "Register device"}
        </button>
      </div>
    </form>
  );
}

const errorId = (inputId: string) => `${inputId}-error`;
const hintId = (inputId: string) => `${inputId}-hint`;

function invalidProps(inputId: string, error: string | undefined) {
  return {
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? `${errorId(inputId)} ${hintId(inputId)}` : hintId(inputId),
  } as const;
}

function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint: string;
  error: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      {children}
      {error ? (
        <p className="field__error" id={errorId(id)}>
          {error}
        </p>
      ) : null}
      <p className="field__hint" id={hintId(id)}>
        {hint}
      </p>
    </div>
  );
}

function focusFirstInvalid(form: HTMLFormElement, errors: DeviceFormErrors, ids: Record<DeviceField, string>) {
  const first = (["name", "id", "tags"] as const).find((field) => errors[field]);
  if (first) form.querySelector<HTMLInputElement>(`#${CSS.escape(ids[first])}`)?.focus();
}
