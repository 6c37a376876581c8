// Runs the `sh` blocks of docs/enterprise.md that follow a `<!-- enterprise-docs:<name> -->` marker,
// as written, under `bash -euo pipefail`, with the real `writ` command on the PATH.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../../..');

export const shellToolsMissing = [['jq', '--version'], ['curl', '--version'], ['bash', '--version']].some(([tool, flag]) => spawnSync(tool!, [flag!]).status !== 0)
  ? 'jq, curl or bash is not installed (.ci/run installs them)' : false;

export function docBlocks(name: string): string[] {
  const page = readFileSync(join(ROOT, 'docs/enterprise.md'), 'utf8');
  return [...page.matchAll(new RegExp(`<!-- enterprise-docs:${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
}

/** The blocks' exit code and everything they printed. */
export async function runDocBlocks(t: TestContext, blocks: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-enterprise-docs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'writ');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" --disable-warning=ExperimentalWarning "${join(ROOT, 'src/cli/main.ts')}" "$@"\n`);
  chmodSync(bin, 0o755);
  const run = spawn('bash', ['-c', `set -euo pipefail\n${blocks.join('\n')}`], { cwd: dir, env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir, ...env } });
  let output = '';
  run.stdout.on('data', (d: Buffer) => { output += d; });
  run.stderr.on('data', (d: Buffer) => { output += d; });
  const code = await new Promise<number | null>((r) => run.on('close', r));
  return { code, output };
}
