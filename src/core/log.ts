// Structured JSON logs. Redaction happens here, at the sink, so no caller can forget it.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Any field whose name matches is replaced wholesale, at any depth.
const SECRET_KEY = /authorization|cookie|password|passwd|secret|token|assertion|api[_-]?key|code_verifier|^code$|private|master[_-]?key|credential|dpop|^key$|ciphertext|subject_token|actor_token/i;
// Values that look like bearer material are masked wherever they appear in a string.
const SECRET_VALUE = [
  /\b(Bearer|DPoP|Basic)\s+[A-Za-z0-9._~+/=-]+/g, // auth headers
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWS compact
  /\bE[A-Za-z0-9_-]{40,}={0,2}/g, // biscuit base64url blobs start with 'E'
];

export const REDACTED = '[redacted]';

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'string') {
    let out = value;
    for (const re of SECRET_VALUE) out = out.replace(re, REDACTED);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, depth + 1), code: (value as { code?: unknown }).code };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && v !== undefined && typeof v !== 'boolean' && typeof v !== 'number' ? REDACTED : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = (line: string) => void;

// stdout to a pipe or file is a synchronous write per call on Linux; lines written in one turn
// of the event loop leave together, and whatever is pending is written out before exit.
let pending: string[] = [];
function flushStdout(): void {
  if (pending.length === 0) return;
  const chunk = pending.join('');
  pending = [];
  process.stdout.write(chunk);
}
process.once('exit', flushStdout);
const stdoutSink: LogSink = (line) => {
  if (pending.length === 0) setImmediate(flushStdout);
  pending.push(line + '\n');
};

export function createLogger(options: { level?: LogLevel; sink?: LogSink; base?: Record<string, unknown> } = {}): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const sink = options.sink ?? stdoutSink;
  const base = options.base ?? {};
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    const record = redact({ time: new Date().toISOString(), level, msg, ...base, ...fields });
    sink(JSON.stringify(record));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

export const silentLogger: Logger = createLogger({ sink: () => {} });
