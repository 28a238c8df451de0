// /api/auth (sign-in sessions) and /api/tokens (API tokens for scripts and MQTT).
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ApiTokenCreate, ApiTokenCreated, ApiTokenList, IdParams, LoginBody, PasswordChange, SessionInfo } from "@fleetwatch/contracts";
import { apiErrors, requireOperator, SESSION_COOKIE } from "../../http/api.ts";
import { notFound } from "../../http/errors.ts";
import { toUser, type AuthService } from "./auth.service.ts";

export async function authRoutes(parent: FastifyInstance, { auth, sessionTtlMs }: { auth: AuthService; sessionTtlMs: number }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    "/auth/login",
    {
      config: { access: "public" },
      schema: {
        tags: ["auth"],
        summary: "Sign in: sets the session cookie",
        body: LoginBody,
        response: { 200: SessionInfo, ...apiErrors },
      },
    },
    async (request, reply) => {
      const { sessionToken, user } = await auth.login(request.body.email, request.body.password, request.ip);
      reply.setCookie(SESSION_COOKIE, sessionToken, {
        path: "/",
        httpOnly: true,
        sameSite: "lax",
        // request.protocol honours X-Forwarded-Proto only when TRUST_PROXY is set.
        secure: request.protocol === "https",
        maxAge: Math.floor(sessionTtlMs / 1000),
      });
      return { user: toUser(user), csrfToken: auth.csrfTokenFor(sessionToken) };
    },
  );

  app.post(
    "/auth/logout",
    {
      config: { access: "signed-in" },
      schema: { tags: ["auth"], summary: "Sign out: ends the session on the server", response: { 204: Type.Null(), ...apiErrors } },
    },
    async (request, reply) => {
      const operator = requireOperator(request);
      if (operator.sessionToken) await auth.logout(operator.sessionToken, operator.userId);
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/auth/password",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["auth"],
        summary: "Change your own password (the current one is required); your other sessions end",
        body: PasswordChange,
        response: { 204: Type.Null(), ...apiErrors },
      },
    },
    async (request, reply) => {
      await auth.changeOwnPassword(requireOperator(request), request.body.currentPassword, request.body.newPassword);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/auth/me",
    { schema: { tags: ["auth"], summary: "The signed-in operator and the CSRF token", response: { 200: SessionInfo, ...apiErrors } } },
    async (request) => {
      const operator = requireOperator(request);
      return {
        user: { id: operator.userId, email: operator.email, role: operator.role, createdAt: operator.createdAt.toISOString() },
        csrfToken: operator.sessionToken ? auth.csrfTokenFor(operator.sessionToken) : null,
      };
    },
  );

  app.get(
    "/tokens",
    { schema: { tags: ["tokens"], summary: "Your API tokens", response: { 200: ApiTokenList, ...apiErrors } } },
    async (request) => ({
      items: await auth.listApiTokens(requireOperator(request).userId),
    }),
  );

  // Viewers may hold tokens too (read-only scripts, MQTT subscriptions): a token carries
  // its owner's role, so creating one changes nothing about the fleet.
  app.post(
    "/tokens",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["tokens"],
        summary: "Create an API token (shown once)",
        body: ApiTokenCreate,
        response: { 201: ApiTokenCreated, ...apiErrors },
      },
    },
    async (request, reply) => {
      return reply.code(201).send(await auth.createApiToken(requireOperator(request).userId, request.body.name));
    },
  );

  app.delete(
    "/tokens/:id",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["tokens"],
        summary: "Revoke one of your API tokens",
        params: IdParams,
        response: { 204: Type.Null(), ...apiErrors },
      },
    },
    async (request, reply) => {
      if (!(await auth.deleteApiToken(request.params.id, requireOperator(request).userId)))
        throw notFound(`No API token ${request.params.id}`);
      return reply.code(204).send(null);
    },
  );
}
