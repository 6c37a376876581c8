// A CPU profile of a Writ process under exchange load (`--cpu-prof`), summed by self time.
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnWrit } from '../servers/writ.ts';
import { delegatedTarget, type CapabilityFormat } from '../fixtures.ts';
import { round, type BenchModule, type Figures } from '../harness.ts';
import { summarizeProfile } from '../profile.ts';
import { exchangeBurst } from './exchange.ts';

async function profileExchange(workDir: string, format: CapabilityFormat, seconds: number) {
  const dataDir = mkdtempSync(join(workDir, `profile-${format}-`));
  const profileDir = join(dataDir, 'cpuprofile');
  const server = await spawnWrit({ dataDir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  let rps = 0;
  try {
    const target = await delegatedTarget(server);
    await exchangeBurst(target, format, { amount: 300 });
    rps = (await exchangeBurst(target, format, { durationSec: seconds })).rps;
  } finally {
    await server.stop();
  }
  // One file per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): the main thread is
  // thread 0; the others are the Biscuit pool's workers, summed apart.
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  const file = files.find((f) => f.split('.')[4] === '0') ?? files[0];
  if (!file) throw new Error('no .cpuprofile was written');
  const workers = files.filter((f) => f !== file).map((f) => summarizeProfile(join(profileDir, f), 5));
  return {
    rps_while_profiled: round(rps),
    ...summarizeProfile(join(profileDir, file), 15),
    ...(workers.length > 0 && {
      worker_threads: { profiles: workers.length, busy_ms: workers.reduce((sum, w) => sum + w.busy_ms, 0), top: workers[0]!.by_function },
    }),
  };
}

export const profile: BenchModule = {
  id: 'profile',
  name: 'CPU profile under exchange load',
  async run(ctx): Promise<Figures> {
    if (ctx.sizes.profileSec === 0) return { notes: ['No CPU profile in quick mode (run the full bench for one).'] };
    return {
      profile: {
        note: 'Self time of the Writ process (start-up and set-up included) while autocannon drives token exchange; percentages are of busy (non-idle) time.',
        jwt: await profileExchange(ctx.workDir, 'jwt', ctx.sizes.profileSec),
        biscuit: await profileExchange(ctx.workDir, 'biscuit', ctx.sizes.profileSec),
      },
    };
  },
};
