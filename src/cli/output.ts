// Human output by default, one JSON document with --json; progress on stderr only for a terminal.

export interface Output {
  json: boolean;
  /** The command's result: JSON as is, or the human rendering. */
  result(value: unknown, human: () => string): void;
  /** A note for people (stderr), silent under --json. */
  note(text: string): void;
  progress(label: string): Progress;
}

export interface Progress { update(done: number, total?: number): void; done(): void }

const SILENT: Progress = { update() {}, done() {} };

export function createOutput(json: boolean, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Output {
  return {
    json,
    result(value, human) {
      stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    note(text) { if (!json) stderr.write(`${text}\n`); },
    progress(label) {
      if (!stderr.isTTY) return SILENT;
      const draw = (done: number, total?: number) => {
        const width = 30;
        const bar = total ? '#'.repeat(Math.round((done / Math.max(total, 1)) * width)).padEnd(width, '.') : '';
        stderr.write(`\r${label} ${total ? `[${bar}] ${done}/${total}` : `${done}`}`);
      };
      return { update: draw, done() { stderr.write('\n'); } };
    },
  };
}

/** A plain table: columns padded to the widest cell. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}
