import './biscuit-worker-quiet.ts';
import { parentPort } from 'node:worker_threads';
import { attenuateBiscuit } from './biscuit-attenuate.ts';
import { mintBiscuitCapability } from './biscuit-mint.ts';

// One worker of the Biscuit pool (biscuit-pool.ts): its own biscuit-wasm instance, whose memory
// the pool reads after every task and ends the worker for once it has grown past its bound.

export type WorkerTask =
  | { id: number; op: 'mint'; args: Parameters<typeof mintBiscuitCapability> }
  | { id: number; op: 'attenuate'; args: [token: string, rootPublicKey: string, attenuation: Parameters<typeof attenuateBiscuit>[2]] };

export type WorkerAnswer =
  | { id: number; ok: true; value: unknown; wasmBytes: number }
  | { id: number; ok: false; error: { name: string; message: string }; wasmBytes: number };

const OPERATIONS = { mint: mintBiscuitCapability, attenuate: attenuateBiscuit } as const;

// biscuit-wasm's module is a singleton: importing its .wasm by URL gives this worker's instance.
const wasm = (await import(new URL('../module/biscuit_bg.wasm', import.meta.resolve('@biscuit-auth/biscuit-wasm')).href)) as { memory: { buffer: ArrayBuffer } };
const wasmMemoryBytes = (): number => wasm.memory.buffer.byteLength;

parentPort?.on('message', (task: WorkerTask) => {
  let answer: WorkerAnswer;
  try {
    const value = (OPERATIONS[task.op] as (...args: unknown[]) => unknown)(...task.args);
    answer = { id: task.id, ok: true, value, wasmBytes: wasmMemoryBytes() };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    answer = { id: task.id, ok: false, error: { name: e.name, message: e.message }, wasmBytes: wasmMemoryBytes() };
  }
  parentPort!.postMessage(answer);
});
