import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

// Downstream services import the verifier; importing it must do no work: biscuit-wasm not even
// loaded (the first Biscuit loads it), so no key generated, no token minted or authorised. Its
// memory grows with every such call and never shrinks, so it is compared with a process that
// imported nothing of Writ's and instantiated the wasm module alone.

const root = resolve(import.meta.dirname, '../..');
// The module's memory, reached by file URL: the package exports only its JavaScript entry.
const wasm = pathToFileURL(join(dirname(fileURLToPath(import.meta.resolve('@biscuit-auth/biscuit-wasm'))), 'biscuit_bg.wasm')).href;

async function afterImport(specifier: string): Promise<{ stdout: string; stderr: string; wasmBytes: number }> {
  const script = `await import(${JSON.stringify(specifier)});
const { memory } = await import(${JSON.stringify(wasm)});
process.stderr.write('WASM_BYTES=' + memory.buffer.byteLength);`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { cwd: root });
  const bytes = /WASM_BYTES=(\d+)$/.exec(stderr);
  assert.ok(bytes, stderr);
  return { stdout, stderr: stderr.slice(0, bytes.index), wasmBytes: Number(bytes[1]) };
}

test('importing the verifier library does no wasm work and prints nothing', async () => {
  const [baseline, verifier] = await Promise.all([
    afterImport('node:os'),
    afterImport(pathToFileURL(join(root, 'src/verifier/index.ts')).href),
  ]);
  assert.equal(verifier.wasmBytes, baseline.wasmBytes, 'wasm memory after import equals a fresh instance\'s');
  // Not even the line biscuit-wasm prints when its module starts.
  assert.equal(verifier.stdout, '');
  assert.equal(verifier.stderr, '');
});
