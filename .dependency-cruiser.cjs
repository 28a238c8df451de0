// Import circles are not allowed anywhere, type-only imports included (`pnpm lint`).
// ESLint's import-x/no-cycle skips type-only imports, so this check is dependency-cruiser's.
// And the server's module shape: routes → service → repository, wired by the composition root.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A file must not import a file that imports it back, directly or through others (type-only imports count).",
      from: {},
      to: { circular: true },
    },
    {
      name: "routes-through-services",
      severity: "error",
      comment: "Routes speak HTTP and call their service; only services use repositories (README, One rule for SQL).",
      from: { path: "^apps/server/src/.+\\.routes\\.ts$" },
      to: { path: "\\.repository\\.ts$" },
    },
    {
      name: "modules-receive-services",
      severity: "error",
      comment: "Route modules receive the services they use from the composition root (server.ts); none imports the HTTP app or the root.",
      from: { path: "^apps/server/src/(modules|live)/" },
      to: { path: "^apps/server/src/(http/app|server)\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|generated|node_modules|results|artifacts)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { conditionNames: ["@fleetwatch/source", "import", "types", "default"], extensions: [".ts", ".tsx", ".js"] },
    tsConfig: { fileName: "tsconfig.base.json" },
  },
};
