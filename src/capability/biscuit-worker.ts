import './biscuit-worker-quiet.ts';
import { parentPort } from 'node:worker_threads';
import { attenuateBiscuit } from './biscuit-attenuate.ts';
import { openAndAuthorizeBiscuit, type BiscuitRequest } from './biscuit-authorise.ts';
import { mintBiscuitCapability } from './biscuit-mint.ts';
import { openBiscuit, type BiscuitFacts } from './biscuit-open.ts';
import { loadBiscuit } from './biscuit-runtime.ts';
import type { BiscuitLimits } from './envelope.ts';
import { CapabilityError } from './errors.ts';

// One worker of the Biscuit pool (biscuit-pool.ts): its own biscuit-wasm instance, whose memory
// the pool reads after every task and ends the worker for once it has grown past its bound.

/** What opening a token in a worker answers: its facts, and the refusal when a request was authorised and refused. */
export interface OpenedInWorker {
  facts: BiscuitFacts;
  refusal?: { code: CapabilityError['code']; description: string };
}

/** Open a token against one root key (and authorise `request`, when given, in the same evaluation). */
function open(token: string, rootPublicKey: string, limits: BiscuitLimits, request?: BiscuitRequest): OpenedInWorker {
  if (request === undefined) {
    const opened = openBiscuit(token, () => rootPublicKey, { limits });
    opened.biscuit.free();
    return { facts: opened.facts };
  }
  const { opened, refusal } = openAndAuthorizeBiscuit(token, () => rootPublicKey, request, { limits });
  opened.biscuit.free();
  if (refusal === undefined) return { facts: opened.facts };
  if (!(refusal instanceof CapabilityError)) throw refusal;
  return { facts: opened.facts, refusal: { code: refusal.code, description: refusal.description } };
}

export type WorkerTask =
  | { id: number; op: 'mint'; args: Parameters<typeof mintBiscuitCapability> }
  | { id: number; op: 'open'; args: Parameters<typeof open> }
  | { id: number; op: 'attenuate'; args: [token: string, rootPublicKey: string, attenuation: Parameters<typeof attenuateBiscuit>[2]] };

export type WorkerAnswer =
  | { id: number; ok: true; value: unknown; wasmBytes: number }
  | { id: number; ok: false; error: { name: string; message: string; code?: string; description?: string }; wasmBytes: number };

const OPERATIONS = { mint: mintBiscuitCapability, attenuate: attenuateBiscuit, open } as const;

// biscuit-wasm's module is a singleton: importing its .wasm by URL gives this worker's instance.
await loadBiscuit();
const wasm = (await import(new URL('../module/biscuit_bg.wasm', import.meta.resolve('@biscuit-auth/biscuit-wasm')).href)) as { memory: { buffer: ArrayBuffer } };
const wasmMemoryBytes = (): number => wasm.memory.buffer.byteLength;

parentPort?.on('message', (task: WorkerTask) => {
  let answer: WorkerAnswer;
  try {
    const value = (OPERATIONS[task.op] as (...args: unknown[]) => unknown)(...task.args);
    answer = { id: task.id, ok: true, value, wasmBytes: wasmMemoryBytes() };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    // A refusal keeps its code and description; its debug detail stays in the worker.
    const refusal = error instanceof CapabilityError ? { code: error.code, description: error.description } : {};
    answer = { id: task.id, ok: false, error: { name: e.name, message: e.message, ...refusal }, wasmBytes: wasmMemoryBytes() };
  }
  parentPort!.postMessage(answer);
});
