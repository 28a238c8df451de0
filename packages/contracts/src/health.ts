import { Type, type Static } from "typebox";

/** GET /healthz: the process is alive. */
export const Liveness = Type.Object({ status: Type.Literal("ok") }, { $id: "Liveness" });
export type Liveness = Static<typeof Liveness>;

const CheckResult = Type.Object({
  ok: Type.Boolean(),
  detail: Type.Optional(Type.String({ description: "Why the check failed" })),
});

/** GET /readyz: 200 when every dependency is usable, 503 with the failing checks otherwise. */
export const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal("ready"), Type.Literal("unavailable")]),
    checks: Type.Object({
      database: CheckResult,
      broker: CheckResult,
      /** Failing when the oldest message waiting to be stored has waited longer than INGEST_STUCK_AFTER_MS. */
      ingest: CheckResult,
    }),
  },
  { $id: "Readiness" },
);
export type Readiness = Static<typeof Readiness>;
