// The folder tree is the architecture: rooms with one-way doors. dependency-cruiser reads every
// import in src/ (type-only ones too) against the door table in test/architecture/doors.ts, which
// also generates the Doors table of docs/architecture.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cruiseSrc, roomEdges } from './architecture/graph.ts';
import { DOORS, KERNEL } from './architecture/doors.ts';

const SRC = resolve(import.meta.dirname, '../src');

test('imports only use the doors the architecture allows', async () => {
  const { summary } = await cruiseSrc();
  const violations = summary.violations.map((v) => `${v.from} → ${v.to} (${v.rule.name})`);
  assert.deepEqual(violations, []);
});

test('the walk is real: dependency-cruiser read every module of src/ and resolved every import', async () => {
  const { modules } = await cruiseSrc();
  const read = new Set(modules.map((m) => m.source));
  const onDisk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? onDisk(path) : /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [`src/${path.slice(SRC.length + 1)}`] : [];
  });
  // Files nothing imports are entry points (the CLI, the demo provider's main): they are read too.
  const missing = onDisk(SRC).filter((f) => !read.has(f));
  assert.deepEqual(missing, [], 'modules dependency-cruiser did not reach');
  const unresolved = modules.filter((m) => m.source.startsWith('src/'))
    .flatMap((m) => m.dependencies.filter((d) => d.couldNotResolve).map((d) => `${m.source}: ${d.module}`));
  assert.deepEqual(unresolved, []);
});

test('every room is in the door table, and every door is used', async () => {
  const edges = await roomEdges();
  const rooms = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
  assert.deepEqual(rooms.filter((r) => !DOORS[r] && !(KERNEL as readonly string[]).includes(r)), [], 'rooms without an entry');
  const unused: string[] = [];
  for (const [room, door] of Object.entries(DOORS)) {
    for (const to of door.to) if (to !== '*' && !edges.get(room)?.has(to)) unused.push(`${room} → ${to}`);
  }
  assert.deepEqual(unused, [], 'doors no import uses: remove them from test/architecture/doors.ts');
});

test('the kernel imports no room', async () => {
  const edges = await roomEdges();
  const offenders = KERNEL.flatMap((k) => [...(edges.get(k) ?? [])].filter((to) => !(KERNEL as readonly string[]).includes(to)).map((to) => `${k} → ${to}`));
  assert.deepEqual(offenders, []);
});
