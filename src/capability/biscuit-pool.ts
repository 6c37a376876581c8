import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Attenuation } from './biscuit-attenuate.ts';
import type { BiscuitRequest } from './biscuit-authorise.ts';
import type { MintedBiscuit } from './biscuit-mint.ts';
import type { OpenedInWorker, WorkerAnswer, WorkerTask } from './biscuit-worker.ts';
import type { BiscuitLimits } from './envelope.ts';
import { CapabilityError, type CapabilityErrorCode } from './errors.ts';
import type { CapabilityClaims } from './claims.ts';
import type { BiscuitRootKey } from './keys.ts';

// Biscuit work off the event loop, on a small pool of worker threads. biscuit-wasm 0.6.0 never
// returns wasm memory (every mint leaves about 26 KB behind), so each worker is ended once its
// wasm memory has grown past a bound and a fresh one takes its place: the leak then costs a
// worker start every few thousand tokens instead of a process that only grows.

export interface BiscuitPoolOptions {
  /** Worker threads (default: the cores beside the main thread's, at least 1, at most 2). */
  size?: number;
  /** A worker is replaced once its wasm memory passes this many bytes (default 32 MiB: a worker start, about 150 ms off the event loop, every thousand or so mints). */
  recycleAfterBytes?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  retiring: boolean;
}

// The worker script beside this module, with this module's own extension: TypeScript when run
// from source, JavaScript once compiled to dist.
const WORKER_URL = new URL(`./biscuit-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** What a worker threw, as the same kind of error in the caller's thread. */
function revive(error: { name: string; message: string; code?: string; description?: string }): Error {
  if (error.code !== undefined && error.description !== undefined) return new CapabilityError(error.code as CapabilityErrorCode, error.description);
  const revived = error.name === 'TypeError' ? new TypeError(error.message) : new Error(error.message);
  if (error.name !== 'TypeError') revived.name = error.name;
  return revived;
}

export class BiscuitPool {
  readonly #size: number;
  readonly #recycleAfterBytes: number;
  readonly #workers: PoolWorker[] = [];
  #nextId = 1;
  #closed = false;
  #recycled = 0;

  constructor(options: BiscuitPoolOptions = {}) {
    this.#size = Math.max(1, options.size ?? Math.min(2, Math.max(1, availableParallelism() - 1)));
    this.#recycleAfterBytes = options.recycleAfterBytes ?? 32 * 1024 * 1024;
  }

  /** Mint a Biscuit capability in a worker (the same as `mintBiscuitCapability`). */
  mint(claims: CapabilityClaims, rootKey: BiscuitRootKey): Promise<MintedBiscuit> {
    return this.#run('mint', [claims, rootKey]) as Promise<MintedBiscuit>;
  }

  /** Append an attenuation block in a worker (the same as `attenuateBiscuit` with a root key in hex). */
  attenuate(token: string, rootPublicKey: string, attenuation: Omit<Attenuation, 'clock'>): Promise<string> {
    return this.#run('attenuate', [token, rootPublicKey, attenuation]) as Promise<string>;
  }

  /**
   * Open a token against one root key in a worker, and authorise `request` in the same evaluation
   * when given: its facts, and the refusal if the request was refused. What cannot be opened is
   * thrown as the library throws it. The variant budget (`limits.maxVariants`) is the caller's to
   * keep: a worker's accounting would end with it.
   */
  open(token: string, rootPublicKey: string, limits: BiscuitLimits, request?: BiscuitRequest): Promise<OpenedInWorker> {
    return this.#run('open', [token, rootPublicKey, { ...limits, maxVariants: Infinity }, request]) as Promise<OpenedInWorker>;
  }

  /** Workers replaced so far because their wasm memory grew past the bound (for tests and metrics). */
  get recycled(): number {
    return this.#recycled;
  }

  /** Ends every worker once its tasks are answered; later calls are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((w) => this.#drain(w)));
  }

  #run(op: WorkerTask['op'], args: WorkerTask['args']): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('the Biscuit pool is closed'));
    const target = this.#pick();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      if (target.pending.size === 1) target.worker.ref();
      target.worker.postMessage({ id, op, args } as WorkerTask);
    });
  }

  /** The active worker with the fewest tasks, starting workers up to the pool's size. */
  #pick(): PoolWorker {
    const active = this.#workers.filter((w) => !w.retiring);
    if (active.length < this.#size) return this.#start();
    return active.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  #start(): PoolWorker {
    // No heap limits: a worker's V8 heap stays small on its own, and limits shrink its young
    // generation until it collects garbage several times per mint.
    const worker = new Worker(WORKER_URL);
    const entry: PoolWorker = { worker, pending: new Map(), retiring: false };
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => this.#answered(entry, answer));
    worker.on('error', (error) => this.#failed(entry, error));
    worker.on('exit', () => this.#failed(entry, new Error('a Biscuit worker exited')));
    this.#workers.push(entry);
    return entry;
  }

  #answered(entry: PoolWorker, answer: WorkerAnswer): void {
    const pending = entry.pending.get(answer.id);
    entry.pending.delete(answer.id);
    if (entry.pending.size === 0) entry.worker.unref();
    if (answer.ok) pending?.resolve(answer.value);
    else pending?.reject(revive(answer.error));
    if (!entry.retiring && answer.wasmBytes > this.#recycleAfterBytes) {
      // A fresh worker takes new tasks from now on; this one finishes what it holds, then ends.
      entry.retiring = true;
      this.#recycled++;
      this.#workers.splice(this.#workers.indexOf(entry), 1);
      void this.#drain(entry);
    }
    if (entry.retiring && entry.pending.size === 0) void entry.worker.terminate();
  }

  #failed(entry: PoolWorker, error: Error): void {
    const index = this.#workers.indexOf(entry);
    if (index >= 0) this.#workers.splice(index, 1);
    for (const pending of entry.pending.values()) pending.reject(error);
    entry.pending.clear();
  }

  async #drain(entry: PoolWorker): Promise<void> {
    entry.retiring = true;
    if (entry.pending.size === 0) await entry.worker.terminate();
  }
}
