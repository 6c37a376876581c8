// Waiting for a Writ child process to be ready. No start-up deadline: a loaded machine starts
// slowly, so the only bound is a generous liveness one, and a child that exits fails at once.
import type { ChildProcess } from 'node:child_process';

const LIVENESS_MS = 60_000;

/**
 * Resolves once the child's output holds `count` lines matching `signal` (each worker logs
 * "writ listening" when it serves requests; that needs WRIT_LOG_LEVEL=info).
 */
export function readySignal(child: ChildProcess, output: () => string, options: { signal?: RegExp; count?: number; livenessMs?: number } = {}): Promise<void> {
  const { signal = /"msg":"writ listening"/g, count = 1, livenessMs = LIVENESS_MS } = options;
  const seen = () => (output().match(new RegExp(signal.source, 'g')) ?? []).length;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(liveness);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', exited);
      if (err) reject(err); else resolve();
    };
    // Listeners run after the caller's own, which append the chunk to `output`.
    const check = () => { if (seen() >= count) done(); };
    const exited = () => done(new Error(`writ exited before it was ready: ${output().slice(-4000)}`));
    const liveness = setTimeout(() => done(new Error(`writ not ready after ${livenessMs} ms (${seen()} of ${count} ready): ${output().slice(-4000)}`)), livenessMs);
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', exited);
    if (child.exitCode !== null) exited(); else check();
  });
}

/** Polls /healthz until it answers; for children that log only warnings. */
export async function untilHealthy(url: string, child: ChildProcess, output: () => string, livenessMs = LIVENESS_MS): Promise<void> {
  const giveUpAt = Date.now() + livenessMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`writ exited during start-up: ${output().slice(-4000)}`);
    try { if ((await fetch(`${url}/healthz`)).ok) return; } catch { /* not listening yet */ }
    if (Date.now() > giveUpAt) throw new Error(`writ not healthy after ${livenessMs} ms: ${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
