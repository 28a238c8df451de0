// One lint configuration for the whole workspace (ESLint flat config, type-aware rules).
// `pnpm lint` runs it together with Prettier's check, and `pnpm test` runs `pnpm lint`.
import { readdirSync } from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

// README, "One rule for SQL": a repository uses Prisma's client or raw pg, never both.
const queryLayers = ["pg", "@fleetwatch/prisma"];
const oneQueryLayer = {
  meta: {
    type: "problem",
    messages: {
      both: "A repository uses one query layer: Prisma's client or raw pg, never both (README, One rule for SQL).",
      database: "A repository takes a PrismaClient or a pg.Pool, not the Database that holds both (README, One rule for SQL).",
    },
  },
  create(context) {
    const imported = new Map();
    return {
      ImportDeclaration(node) {
        if (queryLayers.includes(node.source.value)) imported.set(node.source.value, node);
        if (/(^|\/)db\/database\.ts$/.test(node.source.value)) context.report({ node, messageId: "database" });
      },
      "Program:exit"() {
        if (imported.size === queryLayers.length) context.report({ node: imported.get("pg"), messageId: "both" });
      },
    };
  },
};

const webFeatures = readdirSync(new URL("./apps/web/src/features", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "prisma/generated/**",
      "prisma/scripts/**",
      "bench/results/**",
      "bench/**/*.cjs",
      "e2e/artifacts/**",
      "coverage/**",
      "data/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        // Each file is checked with the tsconfig.json that includes it (one per package).
        projectService: {
          allowDefaultProject: ["eslint.config.js", ".dependency-cruiser.cjs", "apps/web/vite.config.ts", "prisma/prisma.config.ts"],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "import-x": importX },
    settings: {
      // Resolves our explicit `.ts` imports and the workspace packages' "@fleetwatch/source" condition.
      "import-x/resolver-next": [
        createTypeScriptImportResolver({
          project: ["tsconfig.json", "*/*/tsconfig.json", "*/tsconfig.json"],
          conditionNames: ["@fleetwatch/source", "types", "import", "default"],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      // Import circles are checked by dependency-cruiser (.dependency-cruiser.cjs): import-x's
      // no-cycle skips type-only imports, which the rule must cover too.
      "import-x/no-self-import": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      // A promise that nobody awaits must say so (`void`), so a lost rejection is a decision.
      "@typescript-eslint/no-floating-promises": "error",
      // Fastify plugins, aedes hooks and our interfaces are async by contract even when a body
      // happens not to await; the rule would force noise, not catch bugs.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Tests read untyped JSON bodies (inject's json(), fetch) and assert on their shape; the
    // assertions are the type check there. Everything else keeps the no-unsafe rules.
    files: ["**/*.test.ts", "**/test/**/*.ts", "test/**/*.ts", "e2e/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    files: ["apps/server/src/**/*.repository.ts"],
    plugins: { fleetwatch: { rules: { "one-query-layer": oneQueryLayer } } },
    rules: { "fleetwatch/one-query-layer": "error" },
  },
  {
    files: ["eslint.config.js", ".dependency-cruiser.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The classic script the dashboard's page runs before its modules (the theme, before the first paint).
    files: ["apps/web/public/**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { ...globals.browser } },
  },
  {
    // The dashboard runs in browsers.
    files: ["apps/web/src/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // A React Compiler notice; the dashboard is not compiled with it.
      "react-hooks/incompatible-library": "off",
    },
  },
  // bulletproof-react's boundaries: a feature never imports another feature, and shared code
  // (components, lib, config) never imports features or the app. app → features → shared.
  ...webFeatures.map((feature) => ({
    files: [`apps/web/src/features/${feature}/**/*.{ts,tsx}`],
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              target: `./apps/web/src/features/${feature}`,
              from: "./apps/web/src/features",
              except: [`./${feature}`],
              message: "Features do not import each other: move what they share to src/components or src/lib.",
            },
            { target: `./apps/web/src/features/${feature}`, from: "./apps/web/src/app", message: "Features do not import the app layer." },
          ],
        },
      ],
    },
  })),
  {
    files: ["apps/web/src/{components,lib,config}/**/*.{ts,tsx}"],
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              target: "./apps/web/src/{components,lib,config}",
              from: "./apps/web/src/{features,app}",
              message: "Shared code does not import features or the app.",
            },
          ],
        },
      ],
    },
  },
);
