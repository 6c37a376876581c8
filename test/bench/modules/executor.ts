// The executor's figures (POST /v1/tools/:tool/execute against the demo provider, compared with
// calling the upstream directly) arrive with the executor. Until then: nulls and why.
import type { BenchModule, Figures } from '../harness.ts';

export const executor: BenchModule = {
  id: 'executor',
  name: 'executor overhead over a direct upstream call',
  async run(): Promise<Figures> {
    return {
      writ: { execute_rps: null, execute_p50_ms: null, execute_p99_ms: null, pending: 'executor' },
      notes: ['Executor figures are pending: the executor is not built yet. This module is where they go.'],
    };
  },
};
