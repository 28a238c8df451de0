/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Where the Fleetwatch server is, when it does not serve the dashboard itself. */
  readonly VITE_API_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
