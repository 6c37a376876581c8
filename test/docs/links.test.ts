// Every relative link in the README and docs/ points at a file that exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

function markdown(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? markdown(path) : name.endsWith('.md') ? [path] : [];
  });
}

test('relative links in the README and docs resolve', () => {
  const broken: string[] = [];
  for (const file of [join(ROOT, 'README.md'), ...markdown(join(ROOT, 'docs'))]) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target!)) continue;
      const path = resolve(dirname(file), target!.split('#')[0]!);
      if (!existsSync(path)) broken.push(`${file.slice(ROOT.length + 1)} → ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});
