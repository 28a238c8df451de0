import { Type, type Static } from "typebox";

/** Every error response of the HTTP API has this shape. */
export const ApiError = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: "HTTP status text" }),
    message: Type.String({ description: "What went wrong, for a person" }),
    code: Type.Optional(Type.String({ description: "Stable machine-readable code" })),
  },
  { $id: "ApiError" },
);
export type ApiError = Static<typeof ApiError>;
