import { useId, useState, type FormEvent } from "react";
import type { Role, User } from "@fleetwatch/contracts";
import "../users.css";
import { ConfirmButton } from "../../../components/confirm-button.tsx";
import { FormField } from "../../../components/form-field.tsx";
import { Empty, LoadError, Loading } from "../../../components/query-state.tsx";
import { useSession } from "../../../lib/auth/session.ts";
import { useCreateUser, useDeleteUser, useUpdateUser, useUsers } from "../api/users.ts";
import { PasswordForm } from "./password-form.tsx";
import { describeUserError } from "./user-errors.ts";

const roles: readonly { value: Role; label: string }[] = [
  { value: "viewer", label: "Viewer (read only)" },
  { value: "operator", label: "Operator (acts on the fleet)" },
  { value: "admin", label: "Admin" },
];

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="notice notice--error" role="alert">
      {describeUserError(error)}
    </p>
  );
}

function AddUserForm() {
  const create = useCreateUser();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [added, setAdded] = useState<string | null>(null);
  const headingId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    create.mutate(
      { email: email.trim(), password, role },
      {
        onSuccess: (user) => {
          setAdded(user.email);
          setEmail("");
          setPassword("");
          setRole("viewer");
        },
      },
    );
  };

  return (
    <section className="card users__add" aria-labelledby={headingId}>
      <h3 id={headingId} className="card__title">
        Add a user
      </h3>
      <form className="users__form" onSubmit={submit}>
        <FormField label="Email">
          {(control) => (
            <input
              {...control}
              type="email"
              name="email"
              autoComplete="off"
              required
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          )}
        </FormField>
        <FormField label="Password" hint="At least 8 characters. Share it with the user privately.">
          {(control) => (
            <input
              {...control}
              type="password"
              name="password"
              autoComplete="new-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          )}
        </FormField>
        <FormField label="Role">
          {(control) => (
            <select {...control} name="role" value={role} onChange={(event) => setRole(event.target.value as Role)}>
              {roles.map(({ value, label }) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </FormField>
        <div className="users__submit">
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            {create.isPending ? "Adding…" : "Add user"}
          </button>
        </div>
      </form>
      <ErrorNotice error={create.error} />
      {added ? (
        <p role="status" className="users__done">
          Added {added}.
        </p>
      ) : null}
    </section>
  );
}

function UserRow({ user, self }: { user: User; self: boolean }) {
  const update = useUpdateUser();
  const remove = useDeleteUser();
  const roleId = useId();
  return (
    <tr>
      <th scope="row">
        {user.email}
        {self ? <span className="badge users__you">you</span> : null}
      </th>
      <td>
        {self ? (
          // Changing or deleting your own account would end this session; another admin does it.
          user.role
        ) : (
          <>
            <label htmlFor={roleId} className="visually-hidden">
              Role of {user.email}
            </label>
            <select
              id={roleId}
              value={user.role}
              disabled={update.isPending}
              onChange={(event) => update.mutate({ id: user.id, changes: { role: event.target.value as Role } })}
            >
              {roles.map(({ value, label }) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </>
        )}
        <ErrorNotice error={update.error} />
      </td>
      <td>
        <time dateTime={user.createdAt}>{dateFormat.format(new Date(user.createdAt))}</time>
      </td>
      <td>
        {self ? null : <SetPassword user={user} />}
        {self ? null : (
          <ConfirmButton
            title={`Delete ${user.email}?`}
            description="They are signed out at once and their API tokens stop working. This cannot be undone."
            confirmLabel="Delete user"
            disabled={remove.isPending}
            onConfirm={() => remove.mutate(user.id)}
          >
            Delete
          </ConfirmButton>
        )}
        <ErrorNotice error={remove.error} />
      </td>
    </tr>
  );
}

/** An admin sets another user's password behind a button, so the table stays one line a user. */
function SetPassword({ user }: { user: User }) {
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <button type="button" className="button" onClick={() => setOpen(true)}>
        Set password
      </button>
    );
  return <PasswordForm target={{ kind: "user", id: user.id, email: user.email }} onClose={() => setOpen(false)} />;
}

/** Operator accounts and their roles. Admins only: mount it inside <IfCan action="manage-users">. */
export function UsersSection() {
  const headingId = useId();
  const users = useUsers();
  const me = useSession().data?.user.id;
  return (
    <section className="users" aria-labelledby={headingId}>
      <h2 id={headingId} className="users__title">
        Users and roles
      </h2>
      <p className="muted">
        Operators manage devices, alert rules and acknowledgements; admins also manage users. Viewers can see everything and change nothing.
        A changed role signs the user out.
      </p>
      {users.isPending ? (
        <Loading label="Loading users…" />
      ) : users.error ? (
        <LoadError what="the users" error={users.error} retry={() => void users.refetch()} />
      ) : users.data.items.length === 0 ? (
        <Empty>No users.</Empty>
      ) : (
        <div className="table-frame users__table">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.data.items.map((user) => (
                <UserRow key={user.id} user={user} self={user.id === me} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <AddUserForm />
    </section>
  );
}
