// The admin API as the CLI sees it: URL and token from options or the environment, and every
// answer mapped onto the CLI's exit codes.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WritError, type ErrorCode } from '../errors/index.ts';
import { EXIT } from './spec.ts';

/** The table's code for each exit code, so a CliError reads like any other WritError. */
const CODE_FOR_EXIT: Record<number, ErrorCode> = {
  [EXIT.usage]: 'invalid_request',
  [EXIT.notFound]: 'not_found',
  [EXIT.refused]: 'forbidden',
};

/**
 * A failed command: the message is for the person at the terminal, the exit code for their script,
 * and `error` the code a script can switch on (the server's own when it answered one).
 */
export class CliError extends WritError {
  readonly exitCode: number;
  readonly error: string;
  constructor(exitCode: number, message: string, error?: string) {
    super(CODE_FOR_EXIT[exitCode] ?? 'server_error', message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.error = error ?? (exitCode === EXIT.usage ? 'usage' : exitCode === EXIT.failed ? 'failed' : this.code);
  }
}

/** The failure as `--json` prints it on stderr: one JSON document, RFC 6749 §5.2 field names. */
export function jsonFailure(error: string, description: string, exitCode: number): string {
  return `${JSON.stringify({ error, error_description: description, exit_code: exitCode })}\n`;
}

export interface Connection { url: string; token: () => string }

export function connection(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Connection {
  const url = (typeof values.url === 'string' ? values.url : env.WRIT_URL) ?? `http://localhost:${env.PORT ?? 8080}`;
  try { new URL(url); } catch { throw new CliError(EXIT.usage, `--url is not a URL: ${url}`); }
  return {
    url: url.replace(/\/+$/, ''),
    token() {
      if (env.WRIT_ADMIN_TOKEN) return env.WRIT_ADMIN_TOKEN;
      const dir = resolve(typeof values['data-dir'] === 'string' ? values['data-dir'] : env.WRIT_DATA_DIR ?? './.writ');
      try {
        return readFileSync(join(dir, 'admin-token'), 'utf8').trim();
      } catch {
        throw new CliError(EXIT.usage, `no admin token: set WRIT_ADMIN_TOKEN or point --data-dir at a data dir with admin-token (looked in ${dir})`);
      }
    },
  };
}

/** Maps an HTTP status onto an exit code: 404 not found, other 4xx refused, the rest failed. */
export function exitFor(status: number): number {
  if (status === 404) return EXIT.notFound;
  if (status >= 400 && status < 500) return EXIT.refused;
  return EXIT.failed;
}

export async function admin(conn: Connection, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; res: Response }> {
  const token = conn.token();
  let res: Response;
  try {
    res = await fetch(`${conn.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new CliError(EXIT.failed, `cannot reach Writ at ${conn.url}`, 'unreachable');
  }
  const text = await res.text();
  let json: any;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  if (!res.ok) {
    const what = json?.error ? `${json.error}${json.error_description ? `: ${json.error_description}` : ''}` : `HTTP ${res.status}`;
    throw new CliError(exitFor(res.status), `${method} ${path}: ${what}`, typeof json?.error === 'string' ? json.error : undefined);
  }
  return { status: res.status, json, res };
}
