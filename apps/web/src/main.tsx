import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/app.tsx";
import { preloadFirstPage } from "./app/preload.ts";
import { queryClient } from "./app/query-client.ts";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

preloadFirstPage(queryClient, window.location);
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
