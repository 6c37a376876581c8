// Inputs for catalog tools, built from their JSON Schemas: a minimal valid one, and the same
// input with a sibling smuggled in beside each key a resource id is read through.
import { resourcePaths } from '../../src/connectors/resource-path.ts';

type Schema = Record<string, any>;

/** The smallest input the schema accepts: required fields only, each at its simplest valid value. */
export function sampleInput(schema: Schema): any {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) out[key] = sampleInput(schema.properties?.[key] ?? {});
      return out;
    }
    case 'array': return Array.from({ length: schema.minItems ?? 0 }, () => sampleInput(schema.items ?? {}));
    case 'integer': case 'number': return schema.minimum ?? 1;
    case 'boolean': return true;
    default: return 'sample-value';
  }
}

// Keys that name another resource where providers accept them (Notion's other parents,
// Linear's project and parent issue), and ones an injected instruction might try.
const ALTERNATIVES = ['database_id', 'block_id', 'workspace', 'projectId', 'parentId', 'teamId', 'user_id', 'org_id', 'owner', 'repo', 'channel'];

export interface SmuggledInput { at: string[]; key: string; input: any }

/** For every level of every resource path: the sample input plus one undeclared key there. */
export function smuggledInputs(schema: Schema, resource: string): SmuggledInput[] {
  const out: SmuggledInput[] = [];
  const seen = new Set<string>();
  for (const path of resourcePaths(resource)) {
    for (let depth = 0; depth < path.length; depth++) {
      const at = path.slice(0, depth);
      let node = schema;
      for (const key of at) node = node.properties[key];
      const candidates = [...ALTERNATIVES, `other_${path[depth]}`].filter((k) => !Object.hasOwn(node.properties ?? {}, k));
      for (const key of candidates) {
        const id = `${at.join('.')}\u0000${key}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const input = sampleInput(schema);
        let target = input;
        for (const k of at) target = target[k];
        target[key] = 'smuggled-resource';
        out.push({ at, key, input });
      }
    }
  }
  return out;
}
