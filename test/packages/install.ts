// The libraries as a downstream project meets them: packed by npm from their workspace folders
// (which builds them, through `prepack`), then installed from the tarballs into a fresh project
// in the system's temporary folder — no workspace link, no node_modules of this repository — by
// npm running on the Node that will run the project. Packages come from the registry, through
// npm's cache first (`--prefer-offline`): `npm ci` of this repository has just filled it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '../..');
export const LIBRARIES = ['@writ/verifier', '@writ/client'] as const;
export type Library = (typeof LIBRARIES)[number];

const run = promisify(execFile);

/** The environment npm gets: this one without what an enclosing `npm test` exported, with `node` first on the PATH. */
function npmEnv(node: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`, NO_UPDATE_NOTIFIER: '1' };
}

/** Runs npm (the one on the PATH, on the given Node) in `cwd`. */
export async function npm(node: string, cwd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run('npm', args, { cwd, env: npmEnv(node), maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${stderr ?? ''}\n${stdout ?? ''}`, { cause: error });
  }
}

export interface Packed {
  name: Library;
  tarball: string;
  files: string[];
  size: number;
  unpackedSize: number;
}

/** `npm pack` of both workspaces, as a publish would make them (prepack builds dist/). */
export async function packLibraries(): Promise<Packed[]> {
  const destination = mkdtempSync(join(tmpdir(), 'writ-packs-'));
  const { stdout } = await npm(process.execPath, ROOT, ['pack', ...LIBRARIES.flatMap((l) => ['-w', l]), '--pack-destination', destination, '--json']);
  // Lifecycle output may precede the JSON report.
  const report = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as Array<{ name: Library; filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
  return report.map((p) => ({ name: p.name, tarball: join(destination, p.filename), files: p.files.map((f) => f.path).sort(), size: p.size, unpackedSize: p.unpackedSize }));
}

/** The version this repository pins for a package (its own dependencies and development dependencies). */
export function pinned(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const version = manifest.dependencies[name] ?? manifest.devDependencies[name];
  if (!version) throw new Error(`${name} is not pinned in package.json`);
  return version;
}

/** Node 22 LTS, from the npm package `node@22` installed into a temporary folder: the path of its binary. */
export async function installNode22(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-node22-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { node: true } }));
  await npm(process.execPath, dir, ['install', '--no-audit', '--no-fund', '--prefer-offline', 'node@22']);
  return join(dir, 'node_modules', '.bin', 'node');
}

export interface Project {
  dir: string;
  node: string;
  /** The Node version that runs it, as `process.version` says. */
  version: string;
}

/** A fresh project outside the repository with the tarballs and `extra` packages installed by npm on `node`. */
export async function installProject(node: string, packed: Packed[], extra: string[]): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-downstream-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'downstream', private: true, type: 'module' }, null, 2));
  await npm(node, dir, ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed.map((p) => p.tarball), ...extra]);
  const { stdout } = await run(node, ['--version']);
  return { dir, node, version: stdout.trim() };
}

interface LockEntry { version: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }

/**
 * Every package a library brings into a project, read from npm's record of what it installed:
 * its dependencies, theirs, and so on (optional peer dependencies are the project's choice, not
 * the library's, and are not followed).
 */
export function installedClosure(project: Project, name: string): string[] {
  const lock = JSON.parse(readFileSync(join(project.dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const seen = new Set<string>();
  const visit = (pkg: string, from: string) => {
    // Node's lookup: the nearest node_modules folder up from the dependent.
    let base = from;
    for (;;) {
      const key = `${base ? `${base}/` : ''}node_modules/${pkg}`;
      if (lock.packages[key]) {
        if (seen.has(key)) return;
        seen.add(key);
        const entry = lock.packages[key]!;
        for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(dep, key);
        return;
      }
      if (!base) throw new Error(`${pkg} (needed by ${from || 'the project'}) is not installed`);
      base = base.includes('/node_modules/') ? base.slice(0, base.lastIndexOf('/node_modules/')) : '';
    }
  };
  visit(name, '');
  return [...seen].map((key) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)).filter((p) => p !== name).sort();
}
