// The code blocks of the libraries' pages (docs/verifier.md, docs/sdk.md and each package's
// README), run against the installed packages. Every ```ts or ```js block carries a marker on
// the line before it: `<!-- program: NAME … -->` for a block that runs as it is, `<!-- fragment:
// NAME — what it leaves open -->` for one that runs inside a small program of the named case,
// which supplies the names the block leaves open and then checks what the block says it does.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { ROOT, type Project } from './install.ts';

export const SAMPLE_PAGES = ['docs/verifier.md', 'docs/sdk.md', 'src/verifier/README.md', 'src/client/README.md'];

export interface Sample {
  page: string;
  line: number;
  kind: 'program' | 'fragment';
  name: string;
  code: string;
}

/** The marked code blocks of a page; an unmarked ts or js block is an error. */
export function samplesOf(page: string): Sample[] {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    assert.ok(end > i, `${page}:${i + 1}: an unclosed code block`);
    if (['ts', 'js', 'typescript', 'javascript'].includes(fence[1]!)) {
      const marker = /^<!-- (program|fragment): ([\w-]+)\b.*-->$/.exec(lines[i - 1] ?? '');
      assert.ok(marker, `${page}:${i + 1}: a code block without a <!-- program: … --> or <!-- fragment: … --> marker`);
      samples.push({ page, line: i + 1, kind: marker[1] as Sample['kind'], name: marker[2]!, code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return samples;
}

/** Where each block was written: its file in the project and its lines there (1-based, inclusive). */
const written: Array<{ sample: Sample; file: string; first: number; last: number }> = [];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SampleProgram {
  /** Code before the block: the names it leaves open. */
  prelude: string;
  /** Code after it: what makes its effect visible (printing, listening). */
  postlude: string;
  /** Placeholders of the page (`'https://writ.example'`) → what this run uses. */
  replace?: Record<string, string>;
  env?: Record<string, string>;
}

/**
 * Writes prelude + block + postlude into the project as a TypeScript module and runs it with
 * Node 24 (type stripping runs it as written). With `serving`, waits for the program's line
 * `SAMPLE_URL <url>`, calls `serving(url)`, then closes its standard input so it stops.
 */
export async function runSample(project: Project, sample: Sample, program: SampleProgram, serving?: (url: string) => Promise<void>): Promise<Run> {
  let code = sample.code;
  for (const [from, to] of Object.entries(program.replace ?? {})) {
    assert.ok(code.includes(from), `${sample.page}:${sample.line}: the block no longer holds ${from}`);
    code = code.replaceAll(from, to);
  }
  const file = join(project.dir, `sample-${sample.name}-${sample.line}.ts`);
  const first = program.prelude.split('\n').length + 2;
  writeFileSync(file, `${program.prelude}\n// ${sample.page}:${sample.line}\n${code}\n${program.postlude}\n`);
  written.push({ sample, file, first, last: first + code.split('\n').length - 1 });
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', file], {
    cwd: project.dir, env: { PATH: process.env.PATH, ...program.env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const listening = new Promise<string | undefined>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      if (line.startsWith('SAMPLE_URL ')) resolve(line.slice('SAMPLE_URL '.length));
    });
    void exited.then(() => resolve(undefined));
  });
  if (serving) {
    const url = await listening;
    assert.ok(url, `${sample.page}:${sample.line} did not start serving:\n${stderr}`);
    try {
      await serving(url);
    } finally {
      child.stdin.end();
    }
  } else {
    child.stdin.end();
  }
  const exitCode = await exited;
  return { code: exitCode, stdout, stderr };
}

/** The JSON a postlude printed on its `SAMPLE_RESULT` line. */
export function resultOf(run: Run): unknown {
  const line = run.stdout.split('\n').find((l) => l.startsWith('SAMPLE_RESULT '));
  assert.ok(line, `no SAMPLE_RESULT line:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line.slice('SAMPLE_RESULT '.length));
}

/**
 * Type-checks the blocks run so far, as written in the project, against the declarations the
 * packages installed (and @types/node, @types/express): TypeScript's errors inside a block's own
 * lines. The code around the blocks is the test's, plain JavaScript, and is not held to types.
 */
export async function typeErrorsInBlocks(project: Project): Promise<string[]> {
  const files = [...new Set(written.filter((w) => w.file.startsWith(project.dir)).map((w) => basename(w.file)))];
  writeFileSync(join(project.dir, 'tsconfig.samples.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2024', noEmit: true, skipLibCheck: true,
      strict: false, allowImportingTsExtensions: true, types: ['node'],
    },
    files,
  }));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.samples.json', '--pretty', 'false'], { cwd: project.dir, maxBuffer: 16 * 1024 * 1024 })
    .then(({ stdout }) => stdout, (error: { stdout?: string }) => error.stdout ?? String(error));
  return output.split('\n').flatMap((line) => {
    const m = /^(sample-[^(]+\.ts)\((\d+),\d+\): error (.*)$/.exec(line);
    if (!m) return [];
    const at = written.find((w) => basename(w.file) === m[1] && w.first <= Number(m[2]) && Number(m[2]) <= w.last);
    return at ? [`${at.sample.page}:${at.sample.line + 1 + Number(m[2]) - at.first}: ${m[3]}`] : [];
  });
}
