// Structured JSON logs through pino. Secrets are removed at the sink, so no caller can forget it:
// pino's path-based redaction censors every field of a record that the secret list names
// (redact.ts) by its exact name, in snake_case, camelCase or as an HTTP header spells it (never by
// a word inside a name); numbers and flags there stay, they say nothing secret. Wildcard paths
// cost pino a walk per path per line (4 levels of them made a line 100 times slower), so nested
// objects go through the log hook instead: the same names censored at any depth, errors without
// their stacks, and values that look like bearer material masked in every string.
import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { REDACTED, SECRET_FIELDS, redact, redactValues } from './redact.ts';

export { redact, REDACTED };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = (line: string) => void;

/** The levels pino's paths cover; the log hook covers what lies below. */
const PATH_DEPTH = 1;

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const title = (snake: string) => snake.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');

/**
 * Every path pino censors: each secret field name as the wire, the code and the environment spell
 * it (`client_secret`, `clientSecret`, `x-api-key`, `X-Api-Key`, `WRIT_ADMIN_TOKEN`, `DPoP`).
 */
export const REDACT_PATHS: readonly string[] = (() => {
  const names = new Set<string>(['DPoP']);
  for (const name of SECRET_FIELDS) {
    for (const spelling of [name, camel(name), name.replaceAll('_', '-'), title(name), name.toUpperCase()]) names.add(spelling);
  }
  return [...names].map((name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`));
})();

/** Flags and counts under a secret's name (`code: 400`, `client_secret_set: true`) say nothing secret. */
const censor = (value: unknown) => (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean' ? value : REDACTED);

// stdout is written by one asynchronous destination per process: lines leave in batches, and
// pino writes out whatever is pending when the process exits.
let stdout: DestinationStream | undefined;
const stdoutStream = () => (stdout ??= pino.destination({ dest: 1, sync: false }));

export function createLogger(options: { level?: LogLevel; sink?: LogSink; base?: Record<string, unknown> } = {}): Logger {
  const sink = options.sink;
  const stream: DestinationStream = sink ? { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) } : stdoutStream();
  const logger = pino({
    level: options.level ?? 'info',
    base: options.base ?? null,
    messageKey: 'msg',
    timestamp: stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (record) => redactValues(record, 0, PATH_DEPTH) as Record<string, unknown>,
    },
    redact: { paths: [...REDACT_PATHS], censor },
    // Errors are already `{ name, message, code, reason }` from the log hook: no stack is added back.
    serializers: { err: (value: unknown) => value },
  }, stream);
  return wrap(logger);
}

function wrap(logger: PinoLogger): Logger {
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
    // Bindings are written once, at the child's making: the whole redaction applies to them.
    child: (fields) => wrap(logger.child(redact(fields) as Record<string, unknown>)),
  };
}

export const silentLogger: Logger = wrap(pino({ level: 'silent' }));
