// Waiting on an effect instead of a deadline: poll until `check` holds. The bound is only there so
// a broken run ends with a message; it is generous because a loaded machine is slow, not wrong.
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, options: { livenessMs?: number; everyMs?: number } = {}): Promise<void> {
  const { livenessMs = 60_000, everyMs = 20 } = options;
  const giveUpAt = Date.now() + livenessMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up after ${livenessMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
