// Regenerates policies/schema.json and the reference section of docs/policies.md from the
// descriptions in src/policy/schema.ts. With --check, writes nothing and exits 1 when stale.

import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { policyJsonSchemaText, policyReferenceMarkdown, spliceReference } from '../src/policy/reference.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const schemaPath = `${root}policies/schema.json`;
const docsPath = `${root}docs/policies.md`;
const check = process.argv.includes('--check');

const wanted = new Map<string, string>([
  [schemaPath, policyJsonSchemaText()],
  [docsPath, spliceReference(await readFile(docsPath, 'utf8'), policyReferenceMarkdown())],
]);

let stale = 0;
for (const [path, text] of wanted) {
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current === text) continue;
  stale++;
  if (check) console.error(`stale: ${path}`);
  else {
    await writeFile(path, text);
    console.log(`wrote ${path}`);
  }
}
if (check && stale > 0) {
  console.error('run: node scripts/gen-policy-schema.ts');
  process.exit(1);
}
