// HTTP contracts of operator accounts: sign-in sessions, users and API tokens.
import { Type, type Static } from "typebox";

export const Role = Type.Union([Type.Literal("admin"), Type.Literal("operator"), Type.Literal("viewer")], {
  description:
    "admin: everything, including accounts and the broker's clients; operator: acts on the fleet (devices, commands, alert rules and acknowledgements, shared dashboards) but manages no accounts; viewer: reads everything and changes nothing",
});
export type Role = Static<typeof Role>;

/** Each role may do everything the roles below it may: viewer < operator < admin. */
const roleRank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` has at least the rights of `needed`; the server and the dashboard ask the same question. */
export const roleAtLeast = (role: Role, needed: Role): boolean => roleRank[role] >= roleRank[needed];

const Email = Type.String({ minLength: 3, maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" });
const Password = Type.String({ minLength: 8, maxLength: 200 });

export const User = Type.Object(
  { id: Type.String(), email: Type.String(), role: Role, createdAt: Type.String({ format: "date-time" }) },
  { $id: "User" },
);
export type User = Static<typeof User>;

export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

/** The signed-in operator, with the CSRF token to send as `x-csrf-token` on cookie-authenticated changes. */
export const SessionInfo = Type.Object(
  {
    user: User,
    csrfToken: Type.Union([Type.String(), Type.Null()], {
      description: "null when authenticated with a Bearer token (no CSRF token needed)",
    }),
  },
  { $id: "SessionInfo" },
);
export type SessionInfo = Static<typeof SessionInfo>;

export const UserCreate = Type.Object({ email: Email, password: Password, role: Role }, { additionalProperties: false });
export type UserCreate = Static<typeof UserCreate>;

/** POST /api/auth/password: the signed-in operator changes their own password. */
export const PasswordChange = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 200 }), newPassword: Password },
  { additionalProperties: false, $id: "PasswordChange" },
);
export type PasswordChange = Static<typeof PasswordChange>;

export const UserUpdate = Type.Object(
  { email: Type.Optional(Email), password: Type.Optional(Password), role: Type.Optional(Role) },
  { additionalProperties: false, minProperties: 1 },
);
export type UserUpdate = Static<typeof UserUpdate>;

export const UserList = Type.Object({ items: Type.Array(User) }, { $id: "UserList" });
export type UserList = Static<typeof UserList>;

export const ApiToken = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: Type.String({ format: "date-time" }),
    lastUsedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  },
  { $id: "ApiToken" },
);
export type ApiToken = Static<typeof ApiToken>;

export const ApiTokenCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
export type ApiTokenCreate = Static<typeof ApiTokenCreate>;

export const ApiTokenCreated = Type.Object(
  {
    ...ApiToken.properties,
    token: Type.String({ description: "Shown once: send as `Authorization: Bearer <token>`, or as the MQTT password" }),
  },
  { $id: "ApiTokenCreated" },
);
export type ApiTokenCreated = Static<typeof ApiTokenCreated>;

export const ApiTokenList = Type.Object({ items: Type.Array(ApiToken) }, { $id: "ApiTokenList" });
export type ApiTokenList = Static<typeof ApiTokenList>;

export const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
