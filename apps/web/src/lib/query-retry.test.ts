import { describe, expect, it } from "vitest";
import { ApiRequestError, NetworkError } from "./api-client.ts";
import { retryUnlessRefused } from "./query-retry.ts";

describe("retryUnlessRefused", () => {
  it("never retries what the server refused (4xx), and tries twice more after a 5xx or no answer", () => {
    for (const status of [400, 401, 403, 404]) expect(retryUnlessRefused(0, new ApiRequestError(status, undefined))).toBe(false);
    for (const error of [new ApiRequestError(503, undefined), new NetworkError()]) {
      expect([0, 1, 2].map((failures) => retryUnlessRefused(failures, error))).toEqual([true, true, false]);
    }
  });
});
