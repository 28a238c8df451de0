import { useEffect, useState } from "react";

type Loaded<T> = { value: T } | { error: unknown } | undefined;

/**
 * What `load` resolves to, or undefined until it has; a failure (a chunk that did not load) is
 * thrown while rendering, for the nearest error boundary. For a lazily loaded part of a page
 * that should show the moment its code is in: React.lazy inside Suspense would hold it back,
 * because React reveals a boundary at the earliest 300 ms after its fallback appeared (measured
 * on the overview's pulse: drawn 80 to 170 ms after both its code and its data were in).
 * `load` must be a stable function, such as a module-level `() => import(...)`.
 */
export function useLoaded<T>(load: () => Promise<T>): T | undefined {
  const [loaded, setLoaded] = useState<Loaded<T>>();
  useEffect(() => {
    let current = true;
    load().then(
      (value) => current && setLoaded({ value }),
      (error: unknown) => current && setLoaded({ error }),
    );
    return () => {
      current = false;
    };
  }, [load]);
  if (loaded && "error" in loaded) throw loaded.error;
  return loaded?.value;
}
