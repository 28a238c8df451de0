/**
 * Polls `probe` until it returns something other than `undefined` or `false`, and resolves
 * with that; throws "timed out waiting for <what>" after `timeoutMs`. For conditions a test
 * cannot await directly (a counter, a frame among many, a row in the database).
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
