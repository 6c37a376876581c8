// The import graph of src/, read by dependency-cruiser (the TypeScript-aware resolver, type-only
// imports included), and the door table turned into its rule set.
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { ADAPTERS, DOORS, KERNEL, PACKAGE_OWNERS } from './doors.ts';

const rooms = (names: readonly string[]) => `(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;

/** The door table as dependency-cruiser rules: everything a door does not allow is forbidden. */
export function doorRules(): IForbiddenRuleType[] {
  const rules: IForbiddenRuleType[] = [];
  for (const [room, door] of Object.entries(DOORS)) {
    if (door.to.includes('*')) continue;
    rules.push({
      name: `door:${room}`, severity: 'error', comment: `${room}/ may import ${door.to.join(', ') || 'the kernel only'}`,
      from: { path: `^src/${room}/` },
      to: { path: '^src/', pathNot: `^src/${rooms([room, ...KERNEL, ...door.to])}/` },
    });
  }
  for (const [pkg, owners] of Object.entries(PACKAGE_OWNERS)) {
    rules.push({
      name: `package:${pkg}`, severity: 'error', comment: `${pkg} only in ${owners.join(', ')}`,
      from: { path: '^src/', pathNot: `^src/${rooms(owners)}/` },
      to: { path: `node_modules/${pkg}/` },
    });
  }
  rules.push({
    name: 'adapters', severity: 'error', comment: 'only the composition root opens a storage adapter',
    from: { path: '^src/', pathNot: '^src/(app|storage)/' },
    to: { path: `^src/${rooms(ADAPTERS)}/` },
  });
  return rules;
}

let cached: Promise<ICruiseResult> | undefined;

/** One dependency-cruiser run over src/ with the door rules, shared by the tests of this process. */
export function cruiseSrc(): Promise<ICruiseResult> {
  cached ??= cruise(['src'], {
    tsPreCompilationDeps: true,
    // Packages are leaves: which room imports them is the question, not what they import.
    doNotFollow: { path: 'node_modules' },
    // The libraries' builds (src/verifier/dist, src/client/dist) are outputs of src/, not part of it.
    exclude: { path: '^src/[^/]+/dist/' },
    // Subpath imports (`@modelcontextprotocol/sdk/server/auth/errors.js`) resolve through `exports`, as in Node.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'node', 'default'] },
    ruleSet: { forbidden: doorRules() },
    validate: true,
  }).then((r) => r.output as ICruiseResult);
  return cached;
}

/** room → rooms it imports (outside itself), as the code stands. */
export async function roomEdges(): Promise<Map<string, Set<string>>> {
  const edges = new Map<string, Set<string>>();
  for (const m of (await cruiseSrc()).modules) {
    if (!m.source.startsWith('src/')) continue;
    const room = m.source.split('/')[1]!;
    for (const d of m.dependencies) {
      if (!d.resolved.startsWith('src/')) continue;
      const to = d.resolved.split('/')[1]!;
      if (to === room) continue;
      if (!edges.has(room)) edges.set(room, new Set());
      edges.get(room)!.add(to);
    }
  }
  return edges;
}

/** Every module reachable from `entry`, type-only imports included (paths as dependency-cruiser names them), and the packages they import. */
export async function reachableFrom(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const modules = new Map((await cruiseSrc()).modules.map((m) => [m.source, m]));
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const d of modules.get(file)?.dependencies ?? []) {
      if (d.resolved.startsWith('src/')) queue.push(d.resolved);
      else if (!d.coreModule) packages.add(d.module.startsWith('@') ? d.module.split('/').slice(0, 2).join('/') : d.module.split('/')[0]!);
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}
