// A place where the crash test may kill the process: `WRIT_CRASH_POINTS=revocation:0.3` makes the
// process SIGKILL itself at the named point with that probability. Unset, it does nothing.
const points = new Map(
  (process.env.WRIT_CRASH_POINTS ?? '').split(',').filter(Boolean).map((p) => {
    const [name, chance] = p.split(':');
    return [name!, Number(chance ?? 1)] as const;
  }),
);

export function crashPoint(name: string): void {
  const chance = points.get(name);
  if (chance !== undefined && Math.random() < chance) process.kill(process.pid, 'SIGKILL');
}
