import type { ReactNode } from "react";
import { useCan, type Action } from "../lib/auth/permissions.ts";

/** Renders `children` only when the operator may do `action`: viewers see no buttons they cannot use. */
export function IfCan({ action, children, otherwise = null }: { action: Action; children: ReactNode; otherwise?: ReactNode }) {
  return useCan(action) ? children : otherwise;
}
