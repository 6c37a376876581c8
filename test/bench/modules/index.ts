// The suite, in the order it runs: baselines first, then Writ's figures.
import type { BenchModule } from '../harness.ts';
import { cryptoBaseline } from './crypto.ts';
import { oidcBaseline } from './oidc-baseline.ts';
import { directUpstream } from './upstream.ts';
import { exchange } from './exchange.ts';

export const MODULES: BenchModule[] = [
  cryptoBaseline,
  oidcBaseline,
  directUpstream,
  exchange,
];
