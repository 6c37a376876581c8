// Start-up: spawn Writ the way `npm start` does and time until /healthz answers 200. The first
// start is on an empty data dir (migrations, key generation); the rest restart on the same dir.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { spawnWrit } from '../servers/writ.ts';
import { percentile, round, type BenchModule, type Figures } from '../harness.ts';

export const startup: BenchModule = {
  id: 'startup',
  name: 'start-up to first /healthz',
  async run(ctx): Promise<Figures> {
    const dataDir = mkdtempSync(join(ctx.workDir, 'startup-'));
    const times: number[] = [];
    let secrets: { adminToken: string; masterKey: string } | undefined;
    for (let i = 0; i < ctx.sizes.startups; i++) {
      const writ = await spawnWrit({ dataDir, ...secrets });
      secrets = { adminToken: writ.adminToken, masterKey: writ.masterKey };
      times.push(writ.startupMs);
      await writ.stop();
    }
    const warm = times.slice(1);
    return {
      writ: {
        startup_ms: round(times[0]!),
        startup_warm_ms: warm.length ? round(percentile(warm, 50)) : null,
      },
    };
  },
};
