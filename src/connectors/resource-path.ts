// The resource a tool call touches is read from its input (`notion:page:{parent.page_id}`), and
// the same input is what the provider receives. An object on that path that admits other keys
// lets a caller name one resource to the capability check and another to the provider
// (`parent: { page_id: <allowed>, database_id: <other> }`). So every object a resource is
// derived through is closed: `additionalProperties: false`, nothing that adds keys, and the
// next key on the path required, so no declared alternative can stand in for it.

type SchemaNode = Record<string, unknown>;

export interface ResourcePathProblem {
  /** Where, as input field names: `[]` is the input itself, `['parent']` its `parent` object. */
  at: string[];
  message: string;
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

// An object on a resource path may only say what its keys are: no keyword that admits more
// keys (patternProperties, unevaluatedProperties, dependentSchemas) or other shapes (anyOf,
// oneOf, allOf, not, if/then/else, $ref), and no default that could fill it in.
const CLOSED_OBJECT_KEYWORDS = new Set(['type', 'title', 'description', 'properties', 'required', 'additionalProperties']);

/** The input paths a resource template reads: `github:repo:{owner}/{repo}` → `[['owner'], ['repo']]`. */
export function resourcePaths(resource: string | undefined): string[][] {
  return [...(resource ?? '').matchAll(PLACEHOLDER)].map((m) => m[1]!.split('.'));
}

const isNode = (value: unknown): value is SchemaNode => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every way an input schema lets a resource path be widened; empty when each object on every
 * path of `resource` is closed. Objects off the path (a page's `properties`) are not judged.
 */
export function resourcePathProblems(inputSchema: SchemaNode, resource: string | undefined): ResourcePathProblem[] {
  const problems: ResourcePathProblem[] = [];
  const seen = new Set<string>();
  for (const path of resourcePaths(resource)) {
    let node: unknown = inputSchema;
    for (let depth = 0; depth < path.length; depth++) {
      const at = path.slice(0, depth);
      const key = path[depth]!;
      const where = at.join('.');
      const report = (message: string) => {
        if (!seen.has(`${where}\u0000${message}`)) problems.push({ at, message });
        seen.add(`${where}\u0000${message}`);
      };
      const name = at.length ? `"${where}"` : 'the input';
      if (!isNode(node) || node.type !== 'object' || !isNode(node.properties)) {
        report(`${name} is on the resource path, so it must be an object schema with properties`);
        break;
      }
      if (node.additionalProperties !== false) report(`${name} is on the resource path, so it must set additionalProperties: false`);
      for (const keyword of Object.keys(node)) {
        if (!CLOSED_OBJECT_KEYWORDS.has(keyword)) report(`${name} is on the resource path, so it may not use ${keyword}`);
      }
      const required = Array.isArray(node.required) ? node.required : [];
      if (!Object.hasOwn(node.properties, key)) {
        report(`"${[...at, key].join('.')}" names the resource, so it must be in properties`);
        break;
      }
      if (!required.includes(key)) report(`"${[...at, key].join('.')}" names the resource, so it must be required`);
      node = node.properties[key];
    }
  }
  return problems;
}

/**
 * A copy of the input schema with every object on the resource paths closed and each path key
 * required. For definitions stored before the check existed: calling them now refuses what
 * they would have let through, instead of refusing the definition.
 */
export function closeResourcePaths(inputSchema: SchemaNode, resource: string | undefined): SchemaNode {
  const copy = structuredClone(inputSchema);
  for (const path of resourcePaths(resource)) {
    let node: unknown = copy;
    for (const key of path) {
      if (!isNode(node) || !isNode(node.properties) || !Object.hasOwn(node.properties, key)) break;
      node.additionalProperties = false;
      const required = Array.isArray(node.required) ? node.required : [];
      if (!required.includes(key)) node.required = [...required, key];
      node = node.properties[key];
    }
  }
  return copy;
}

/** A stored connector definition with `closeResourcePaths` applied to each tool; other shapes pass unchanged for the schema to judge. */
export function withClosedResourcePaths(definition: Record<string, unknown>): Record<string, unknown> {
  if (!isNode(definition.tools)) return definition;
  const tools: Record<string, unknown> = {};
  for (const [key, tool] of Object.entries(definition.tools)) {
    tools[key] = isNode(tool) && isNode(tool.input_schema) && typeof tool.resource === 'string'
      ? { ...tool, input_schema: closeResourcePaths(tool.input_schema, tool.resource) }
      : tool;
  }
  return { ...definition, tools };
}
