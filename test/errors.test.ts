// One error family: every error the server throws is a WritError with a code from ERROR_STATUS
// (src/errors/index.ts), so the error boundaries answer it without translating. The classes are
// read from the source text, the way a reviewer would find them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ERROR_STATUS } from '../src/errors/index.ts';

const SRC = resolve(import.meta.dirname, '../src');

/** Classes outside src/errors/ that extend a built-in error directly, each with its reason. */
const OWN_FAMILIES: Record<string, string> = {
  'client/errors.ts WritClientError':
    'the agent SDK reports answers Writ gave; as a WritError it would be relayed as its caller\'s own answer',
  'exchange/subject.ts NotOurAudience':
    'a private signal inside the subject check, never thrown out of it; the capability room decides its shape',
};

const BUILT_IN = /^(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)$/;

interface ClassDecl { file: string; name: string; parent: string; body: string }

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function classes(): ClassDecl[] {
  return sources(SRC).flatMap((path) => {
    const text = readFileSync(path, 'utf8');
    const file = relative(SRC, path);
    return [...text.matchAll(/^(?:export )?(?:abstract )?class (\w+) extends ([\w.]+)/gm)].map((m) => {
      // Classes are top-level, so the body ends at the first closing brace in column 0.
      const end = text.indexOf('\n}', m.index);
      return { file, name: m[1]!, parent: m[2]!, body: text.slice(m.index, end < 0 ? undefined : end) };
    });
  });
}

/** The class, its parents found in src/, and the first parent found elsewhere (`Error`, `errors.InvalidGrant`). */
function ancestry(decl: ClassDecl, byName: Map<string, ClassDecl>): ClassDecl[] {
  const chain = [decl];
  for (let at = byName.get(decl.parent); at && !chain.includes(at); at = byName.get(at.parent)) chain.push(at);
  return chain;
}

test('no error class outside src/errors/ roots in a built-in error except through WritError or a family documented here', () => {
  const all = classes();
  const byName = new Map(all.map((c) => [c.name, c]));
  assert.equal(byName.get('WritError')?.parent, 'Error', 'the walk finds WritError itself');
  const strays = all.filter((c) => !c.file.startsWith('errors/')).filter((c) => {
    const chain = ancestry(c, byName);
    if (!BUILT_IN.test(chain.at(-1)!.parent)) return false; // another library's family (oidc-provider's errors)
    return !chain.some((a) => a.name === 'WritError' || `${a.file} ${a.name}` in OWN_FAMILIES);
  });
  assert.deepEqual(strays.map((c) => `${c.file} ${c.name} extends ${c.parent}`), [], 'extend WritError (src/errors/index.ts), or document the exception');
});

test('every error code written in src/ is in the one table', () => {
  const codes = new Set(Object.keys(ERROR_STATUS));
  const used: string[] = [];
  for (const path of sources(SRC)) {
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/\b(?:new WritError|oauthError|fail)\(\s*'([a-z_]+)'/g)) used.push(`${relative(SRC, path)}: ${m[1]}`);
  }
  // Subclasses of WritError name their code in the call to its constructor.
  for (const c of classes().filter((c) => c.parent === 'WritError')) {
    for (const m of c.body.matchAll(/\bsuper\(\s*'([a-z_]+)'/g)) used.push(`${c.file}: ${m[1]}`);
  }
  assert.ok(used.length > 20, 'the walk finds the codes');
  assert.deepEqual(used.filter((u) => !codes.has(u.split(': ')[1]!)), []);
});
