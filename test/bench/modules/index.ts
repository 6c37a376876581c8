// The suite, in the order it runs: baselines first, then Writ's figures.
import type { BenchModule } from '../harness.ts';
import { cryptoBaseline } from './crypto.ts';
import { oidcBaseline } from './oidc-baseline.ts';
import { directUpstream } from './upstream.ts';
import { exchange } from './exchange.ts';
import { seeded } from './seeded.ts';
import { workers } from './workers.ts';
import { verification } from './verify.ts';
import { falseDenials } from './false-denials.ts';
import { revocation } from './revocation.ts';
import { startup } from './startup.ts';
import { importCost } from './import-cost.ts';
import { soak } from './soak.ts';
import { executor } from './executor.ts';
import { profile } from './profile.ts';

export const MODULES: BenchModule[] = [
  cryptoBaseline,
  oidcBaseline,
  directUpstream,
  exchange,
  workers,
  seeded,
  verification,
  falseDenials,
  revocation,
  startup,
  importCost,
  soak,
  executor,
  profile,
];
