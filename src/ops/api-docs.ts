// docs/api.md, rendered from the OpenAPI object so the reference cannot drift from what is served.

import type { JsonSchema, OpenApiDocument, Operation } from './openapi.ts';

const METHODS = ['get', 'post', 'put', 'delete'] as const;

function typeOf(schema: JsonSchema | undefined): string {
  if (!schema) return '';
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').at(-1)!;
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if ('const' in schema) return `\`${String(schema.const)}\``;
  if (schema.type === 'array') return `${typeOf(schema.items as JsonSchema | undefined) || 'any'}[]`;
  if (Array.isArray(schema.type)) return schema.type.join(' \\| ');
  return typeof schema.type === 'string' ? schema.type : 'any';
}

function fields(schema: JsonSchema | undefined): string[] {
  const props = schema?.properties as Record<string, JsonSchema> | undefined;
  if (!props) return [];
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, p]) =>
    `  - \`${name}\`${required.has(name) ? '' : ' (optional)'}: ${typeOf(p)}${typeof p.description === 'string' ? ` — ${p.description}` : ''}`);
}

function operationDocs(method: string, path: string, op: Operation): string[] {
  const out = [`### \`${method.toUpperCase()} ${path}\``, '', op.summary, ''];
  if (op.security?.some((s) => 'adminToken' in s)) out.push('Auth: `Authorization: Bearer $WRIT_ADMIN_TOKEN`.', '');
  if (op.parameters?.length) {
    out.push('Parameters:', '');
    for (const p of op.parameters) out.push(`- \`${p.name}\` (${p.in}${p.required ? ', required' : ''}): ${typeOf(p.schema)}${p.description ? ` — ${p.description}` : ''}`);
    out.push('');
  }
  if (op.requestBody) {
    for (const [type, media] of Object.entries(op.requestBody.content)) {
      out.push(`Body (\`${type}\`):`, '', ...fields(media.schema), '');
    }
  }
  out.push('Responses:', '');
  for (const [status, r] of Object.entries(op.responses)) {
    const schema = r.content ? Object.values(r.content)[0]?.schema : undefined;
    out.push(`- **${status}** ${r.description}${schema ? ` → ${typeOf(schema)}` : ''}`);
  }
  out.push('');
  return out;
}

export function renderApiDocs(doc: OpenApiDocument): string {
  const out = [
    '# HTTP API',
    '',
    '<!-- Generated from src/ops/openapi.ts by `npm run docs:generate`; do not edit by hand. -->',
    '',
    `${doc.info.description} The same description is served as OpenAPI ${doc.openapi} at \`/openapi.json\`.`,
    'Errors are `{ "error", "error_description" }` (RFC 6749 §5.2 style) unless noted; the executor answers',
    '`{ "error": { "code", "message", … } }`.',
    '',
  ];
  for (const tag of doc.tags) {
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.flatMap((m) => (item[m]?.tags.includes(tag.name) ? [[m, path, item[m]!] as const] : [])));
    if (!ops.length) continue;
    out.push(`## ${tag.name}`, '', tag.description, '', '| method | path | what |', '| --- | --- | --- |');
    for (const [m, path, op] of ops) out.push(`| ${m.toUpperCase()} | \`${path}\` | ${op.summary.replace(/\|/g, '\\|')} |`);
    out.push('');
    for (const [m, path, op] of ops) out.push(...operationDocs(m, path, op));
  }
  out.push('## Schemas', '');
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    out.push(`### ${name}`, '', ...(fields(schema).length ? fields(schema) : [`${typeOf(schema)}`]), '');
  }
  return out.join('\n').replace(/\n+$/, '\n');
}
