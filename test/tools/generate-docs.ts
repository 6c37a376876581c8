// Regenerates every document derived from code: the configuration reference, the audit event
// table, the policy JSON Schema, the policy reference, the API and CLI references and the door
// table of the architecture page. `--check` writes nothing and exits 1
// when any is stale (the test suite runs the same comparison).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderConfigurationDocs } from '../../src/config/schema.ts';
import { renderEventsDocs } from '../../src/audit/events.ts';
import { policyJsonSchemaText, policyReferenceMarkdown, spliceReference } from '../../src/policy/reference.ts';
import { renderApiDocs } from '../../src/ops/api-docs.ts';
import { openApiDocument } from '../../src/ops/openapi.ts';
import { renderCliDocs } from '../../src/cli/spec.ts';
import { spliceDoorsTable } from '../architecture/doors.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export async function generatedDocs(): Promise<Map<string, string>> {
  const policiesDoc = `${root}docs/policies.md`;
  const architectureDoc = `${root}docs/architecture.md`;
  return new Map([
    [`${root}docs/configuration.md`, renderConfigurationDocs()],
    [`${root}docs/events.md`, renderEventsDocs()],
    [`${root}policies/schema.json`, policyJsonSchemaText()],
    [policiesDoc, spliceReference(await readFile(policiesDoc, 'utf8'), policyReferenceMarkdown())],
    [`${root}docs/api.md`, renderApiDocs(openApiDocument('http://localhost:8080'))],
    [`${root}docs/cli.md`, renderCliDocs()],
    [architectureDoc, spliceDoorsTable(await readFile(architectureDoc, 'utf8'))],
  ]);
}

export async function staleDocs(): Promise<string[]> {
  const stale: string[] = [];
  for (const [path, text] of await generatedDocs()) {
    if ((await readFile(path, 'utf8').catch(() => '')) !== text) stale.push(path);
  }
  return stale;
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  const stale = await staleDocs();
  if (check) {
    for (const path of stale) console.error(`stale: ${path} (run npm run docs:generate)`);
    process.exit(stale.length ? 1 : 0);
  }
  const docs = await generatedDocs();
  for (const path of stale) {
    await writeFile(path, docs.get(path)!);
    console.log(`wrote ${path}`);
  }
}
