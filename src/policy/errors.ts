// Policy loading errors. They name the file, line and field so an operator can fix the file
// without guessing; they never quote file content beyond a rule id.

import { UNEXPECTED, WritError } from '../errors/index.ts';

export type PolicyErrorCode =
  | 'POLICY_DIR_UNREADABLE'
  | 'POLICY_DIR_EMPTY'
  | 'POLICY_FILE_UNREADABLE'
  | 'POLICY_FILE_TOO_LARGE'
  | 'POLICY_FILE_EXTENSION'
  | 'POLICY_YAML_SYNTAX'
  | 'POLICY_SCHEMA'
  | 'POLICY_DUPLICATE_RULE_ID';

export interface PolicyIssue {
  /** Dotted path into the file, e.g. `rules[2].constraints.max_ttl`; empty for the whole file. */
  path: string;
  /** 1-based; absent when the position is unknown. */
  line?: number;
  column?: number;
  message: string;
}

/** A policy file the operator must fix: the server's fault as far as any client can tell. */
export class PolicyFileError extends WritError {
  declare readonly reason: PolicyErrorCode;
  /** The file (or directory) at fault, as given to the loader. */
  readonly file: string;
  readonly issues: readonly PolicyIssue[];

  constructor(reason: PolicyErrorCode, file: string, issues: PolicyIssue[], options?: { cause?: unknown }) {
    super('server_error', UNEXPECTED, { message: formatMessage(file, issues), reason, cause: options?.cause });
    this.name = 'PolicyFileError';
    this.file = file;
    this.issues = issues;
  }

  /** Position of the first issue. */
  get line(): number | undefined {
    return this.issues[0]?.line;
  }

  get path(): string | undefined {
    return this.issues[0]?.path;
  }
}

export function formatIssue(file: string, issue: PolicyIssue): string {
  const at = issue.line === undefined ? file : `${file}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  return issue.path ? `${at}: ${issue.path}: ${issue.message}` : `${at}: ${issue.message}`;
}

function formatMessage(file: string, issues: PolicyIssue[]): string {
  const first = issues[0];
  if (!first) return `${file}: invalid policy`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return formatIssue(file, first) + more;
}

/** `['rules', 2, 'match']` → `rules[2].match`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
