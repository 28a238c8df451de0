// /api/preferences: the signed-in operator's own dashboard preferences (the theme), stored
// server-side so they follow the operator to every browser. Viewers may change their own.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Preferences, PreferencesUpdate } from "@fleetwatch/contracts";
import { apiErrors, requireOperator } from "../../http/api.ts";
import type { PreferencesService } from "./preferences.service.ts";

export async function preferencesRoutes(parent: FastifyInstance, { preferences }: { preferences: PreferencesService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/preferences",
    { schema: { tags: ["preferences"], summary: "Your dashboard preferences", response: { 200: Preferences, ...apiErrors } } },
    async (request) => preferences.get(requireOperator(request).userId),
  );

  app.patch(
    "/preferences",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["preferences"],
        summary: "Change your dashboard preferences",
        body: PreferencesUpdate,
        response: { 200: Preferences, ...apiErrors },
      },
    },
    async (request) => preferences.update(requireOperator(request).userId, request.body),
  );
}
