// Import circles are not allowed anywhere, type-only imports included (`pnpm lint`).
// ESLint's import-x/no-cycle skips type-only imports, so this check is dependency-cruiser's.
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
