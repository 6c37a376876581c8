// Servers under measurement run as child processes on 127.0.0.1, started and stopped here, so
// the orchestrator, the load generator and the server never share an event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawn to the first successful readiness probe. */
  readonly startupMs: number;
  /** Resident set size of the server process, from /proc. */
  rssMb(): number;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  script: string;
  args?: string[];
  /** Node flags such as `--cpu-prof`. */
  nodeArgs?: string[];
  env: Record<string, string>;
  port: number;
  /** Path that answers 200 once the server is ready. */
  readyPath: string;
  /** Where stdout and stderr go (a file, so a chatty server never blocks on a full pipe). */
  logFile: string;
  timeoutMs?: number;
}

/** A port nobody is listening on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export function rssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : NaN;
}

/** CPU time (user + system) the process has used so far, in milliseconds, from /proc (clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const log = openSync(options.logFile, 'a');
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exitedEarly = false;
  let stopping = false;
  child.once('exit', (code, signal) => {
    exitedEarly = true;
    // A server that dies under load says how, in its log and on the orchestrator's stderr.
    if (!stopping) process.stderr.write(`[bench] ${options.script} (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal} (log: ${options.logFile})\n`);
  });
  const deadline = started + (options.timeoutMs ?? 30_000);
  let startupMs = NaN;
  while (performance.now() < deadline) {
    if (exitedEarly) throw new Error(`${options.script} exited during start-up (log: ${options.logFile})`);
    try {
      const res = await fetch(url + options.readyPath);
      await res.arrayBuffer();
      if (res.ok) { startupMs = performance.now() - started; break; }
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (Number.isNaN(startupMs)) {
    child.kill('SIGKILL');
    throw new Error(`${options.script} was not ready within ${options.timeoutMs ?? 30_000} ms (log: ${options.logFile})`);
  }
  return {
    url,
    port: options.port,
    pid: child.pid!,
    startupMs,
    rssMb: () => rssMbOf(child.pid!),
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}
