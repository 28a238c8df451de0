// The `test` every spec imports: Playwright's, with baseURL pointing at the product that
// global-setup.ts started, and that product's addresses as a worker fixture.
import { test as base } from "@playwright/test";
import { baseUrlVar, mqttPortVar } from "./run-env.ts";

export interface RunningProduct {
  baseUrl: string;
  mqttPort: number;
}

export const test = base.extend<object, { product: RunningProduct }>({
  product: [
    // Playwright reads a fixture's dependencies from this object pattern; this one has none.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const baseUrl = process.env[baseUrlVar];
      const mqttPort = Number(process.env[mqttPortVar]);
      if (!baseUrl || !Number.isInteger(mqttPort))
        throw new Error(
          `${baseUrlVar} and ${mqttPortVar} are unset: run the specs with \`playwright test\` so global setup starts the product`,
        );
      await use({ baseUrl, mqttPort });
    },
    { scope: "worker" },
  ],
  baseURL: async ({ product }, use) => use(product.baseUrl),
});

export { expect } from "@playwright/test";
