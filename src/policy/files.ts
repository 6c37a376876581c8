// Reading policy files from a directory, and keeping the loaded set current as they change.
// The decision code never touches the file system; this module is the only one that does.

import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { PolicyFileError } from './errors.ts';
import { MAX_POLICY_FILE_BYTES, parsePolicyFile } from './parse.ts';
import { createPolicySet } from './policy-set.ts';
import type { ParsedPolicyFile, PolicySet } from './types.ts';

/**
 * Load every top-level `*.yaml` file of `dir` (sub-directories such as `examples/` are not
 * read), in name order. Any unreadable or invalid file is an error naming it: a policy set is
 * loaded whole or not at all.
 */
export async function loadPolicies(dir: string): Promise<PolicySet> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new PolicyFileError('POLICY_DIR_UNREADABLE', dir, [{ path: '', message: 'cannot read the policy directory (WRIT_POLICIES)' }], { cause });
  }
  const names = entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => e.name)
    .sort();
  // A `.yml` file would be skipped silently, and a skipped deny rule is a hole: refuse instead.
  const misnamed = names.find((n) => n.endsWith('.yml'));
  if (misnamed !== undefined) {
    throw new PolicyFileError('POLICY_FILE_EXTENSION', join(dir, misnamed), [
      { path: '', message: 'policy files must end in .yaml; rename it or move it out of the policy directory' },
    ]);
  }
  const yamlNames = names.filter((n) => n.endsWith('.yaml'));
  if (yamlNames.length === 0) {
    throw new PolicyFileError('POLICY_DIR_EMPTY', dir, [{ path: '', message: 'no *.yaml policy files in the policy directory (WRIT_POLICIES)' }]);
  }
  const files: ParsedPolicyFile[] = [];
  for (const name of yamlNames) {
    const path = join(dir, name);
    const text = await readPolicyText(path);
    try {
      files.push(parsePolicyFile(text, name));
    } catch (cause) {
      // Rules cite the base name; an operator fixing the file wants the full path.
      if (cause instanceof PolicyFileError) throw new PolicyFileError(cause.reason, path, [...cause.issues], { cause });
      throw cause;
    }
  }
  return createPolicySet(files);
}

async function readPolicyText(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.size > MAX_POLICY_FILE_BYTES) {
      throw new PolicyFileError('POLICY_FILE_TOO_LARGE', path, [{ path: '', message: `file is larger than ${MAX_POLICY_FILE_BYTES} bytes` }]);
    }
    return await readFile(path, 'utf8');
  } catch (cause) {
    if (cause instanceof PolicyFileError) throw cause;
    throw new PolicyFileError('POLICY_FILE_UNREADABLE', path, [{ path: '', message: 'cannot read the policy file' }], { cause });
  }
}

export type ReloadOutcome =
  | { ok: true; changed: boolean; policies: PolicySet }
  | { ok: false; error: PolicyFileError; policies: PolicySet };

export interface PolicyWatcher {
  /** The policy set in force. */
  current(): PolicySet;
  /** Re-read the directory now. On failure the previous set stays in force. Calls are serialised. */
  reload(): Promise<ReloadOutcome>;
  /** Stop watching; `current()` keeps answering. */
  close(): void;
}

export interface WatchOptions {
  logger: Logger;
  /** Called after a reload that changed the policy version. */
  onChange?: (policies: PolicySet) => void;
  /** Called after every reload, whatever its outcome (for metrics). */
  onReload?: (outcome: ReloadOutcome) => void;
  /** Quiet time after the last file event before reloading; editors write in bursts. */
  debounceMs?: number;
  /** An already loaded set; when absent the directory is loaded first (and must be valid). */
  initial?: PolicySet;
}

/**
 * Load `dir` and reload it whenever a file in it changes. Start-up with a broken file throws;
 * later a broken file is logged (file, line, path) and the previous set stays in force.
 */
export async function watchPolicies(dir: string, options: WatchOptions): Promise<PolicyWatcher> {
  const { logger, onChange, onReload, debounceMs = 100 } = options;
  let policies = options.initial ?? (await loadPolicies(dir));
  let queue: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let closed = false;

  const reloadNow = async (): Promise<ReloadOutcome> => {
    try {
      const next = await loadPolicies(dir);
      const changed = next.version !== policies.version;
      if (changed) {
        policies = next;
        logger.info('policies reloaded', { policy_version: next.version, files: next.files.map((f) => f.file) });
        onChange?.(next);
      }
      const outcome: ReloadOutcome = { ok: true, changed, policies };
      onReload?.(outcome);
      return outcome;
    } catch (cause) {
      const error =
        cause instanceof PolicyFileError
          ? cause
          : new PolicyFileError('POLICY_DIR_UNREADABLE', dir, [{ path: '', message: 'policy reload failed' }], { cause });
      logger.error('policy reload failed; the previous policies stay in force', {
        error_code: error.reason,
        file: error.file,
        line: error.line,
        path: error.path,
        error: error.message,
        issues: error.issues,
        policy_version: policies.version,
      });
      const outcome: ReloadOutcome = { ok: false, error, policies };
      onReload?.(outcome);
      return outcome;
    }
  };

  const reload = (): Promise<ReloadOutcome> => {
    const run = queue.then(reloadNow);
    queue = run.catch(() => undefined);
    return run;
  };

  try {
    watcher = watch(dir, { persistent: false }, () => {
      if (closed) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), debounceMs);
    });
    watcher.on('error', (cause) => {
      logger.error('policy directory watch failed; call reload() or restart to pick up changes', {
        file: dir,
        error: cause instanceof Error ? cause.message : String(cause),
      });
    });
  } catch (cause) {
    throw new PolicyFileError('POLICY_DIR_UNREADABLE', dir, [{ path: '', message: 'cannot watch the policy directory' }], { cause });
  }

  return {
    current: () => policies,
    reload,
    close: () => {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
