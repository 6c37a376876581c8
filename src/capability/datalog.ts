import type { Check, Fact } from '@biscuit-auth/biscuit-wasm';
import { biscuitWasm } from './biscuit-runtime.ts';

// Datalog is only ever written as tagged templates: the literal parts are our code, every
// interpolated value becomes a named parameter that biscuit-wasm binds as a term, so no value can
// change the program's shape. Fragments are combined with `join`, which renames parameters and
// inserts only connectors from a fixed list.
//
// biscuit-wasm's own `biscuit`/`block`/`authorizer` templates are not used: they also pass any
// string that starts with "ed25519/" as a public-key scope parameter, and a value that is not a
// real key makes the wasm module panic. Callers' strings (inputs, resources) must never do that.

/** A value that can be bound as a Biscuit term. */
export type Term = string | number | boolean | Date | ReadonlySet<string> | ReadonlySet<number>;

export interface Datalog {
  readonly code: string;
  readonly params: Readonly<Record<string, unknown>>;
}

let counter = 0;

/** A value as biscuit-wasm binds it to a parameter. */
export function term(value: Term): unknown {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('Biscuit integers must be safe integers');
    return value;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('invalid date');
    return biscuitWasm().prepareTerm(new Date(Math.floor(value.getTime() / 1000) * 1000));
  }
  if (value instanceof Set) {
    const items = [...value];
    const kinds = new Set(items.map((item) => typeof item));
    if (kinds.size > 1) throw new TypeError('a Biscuit set holds one type of term');
    for (const item of items) if (typeof item === 'number' && !Number.isSafeInteger(item)) throw new TypeError('Biscuit integers must be safe integers');
    return biscuitWasm().prepareTerm(new Set(items));
  }
  throw new TypeError(`cannot bind a ${typeof value} as a Biscuit term`);
}

export function datalog(strings: TemplateStringsArray, ...values: Term[]): Datalog {
  let code = strings[0] ?? '';
  const params: Record<string, unknown> = {};
  values.forEach((value, i) => {
    const name = `p${(counter = (counter + 1) % 0x7fffffff)}_${i}`;
    params[name] = term(value);
    code += `{${name}}${strings[i + 1] ?? ''}`;
  });
  return { code, params };
}

const CONNECTORS = { statement: '\n', and: ', ', or: ' or ', none: '' } as const;

/** Combine fragments with a fixed connector; parameters keep their unique names. */
export function join(parts: readonly Datalog[], connector: keyof typeof CONNECTORS): Datalog {
  return {
    code: parts.map((p) => p.code).join(CONNECTORS[connector]),
    params: Object.assign({}, ...parts.map((p) => p.params)),
  };
}

/** Anything biscuit-wasm can add parametrised code to. */
interface CodeSink {
  addCodeWithParameters(source: string, parameters: unknown, scopeParameters: unknown): void;
}

export function addTo(sink: CodeSink, code: Datalog): void {
  sink.addCodeWithParameters(code.code, code.params, {});
}

/** Anything biscuit-wasm can add parsed facts and checks to (it copies them: one parsed statement serves many tokens). */
interface StatementSink extends CodeSink {
  addFact(fact: Fact): void;
  addCheck(check: Check): void;
}

// Parsed statements by shape: the statement's code with its parameters renamed a0, a1, … in order
// of appearance. Writ's blocks repeat a few dozen shapes, so after the first token each statement
// costs setting its parameters instead of parsing Datalog.
const MAX_SHAPES = 512;
const shapes = new Map<string, { parsed: Fact | Check; names: string[] }>();

/**
 * Add statements (each one fact or one check, ending in `;`) to a builder, parsing each shape once.
 * The same as `addTo` on their join: same statements, same order.
 */
export function addStatements(sink: StatementSink, statements: readonly Datalog[]): void {
  for (const statement of statements) {
    const names: string[] = [];
    const shape = statement.code.trim().replace(/;$/, '').replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => `{a${names.push(name) - 1}}`);
    let entry = shapes.get(shape);
    if (entry === undefined) {
      const isCheck = shape.startsWith('check if ');
      if (!isCheck && shape.includes('<-')) { addTo(sink, statement); continue; }
      if (shapes.size >= MAX_SHAPES) { addTo(sink, statement); continue; }
      const { Check, Fact } = biscuitWasm();
      entry = { parsed: isCheck ? Check.fromString(shape) : Fact.fromString(shape), names };
      shapes.set(shape, entry);
    }
    names.forEach((name, i) => entry.parsed.set(`a${i}`, statement.params[name]));
    if (entry.parsed instanceof biscuitWasm().Check) sink.addCheck(entry.parsed);
    else sink.addFact(entry.parsed);
  }
}
