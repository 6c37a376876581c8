import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

// Downstream services import the verifier; importing it must do no work: no key generated, no
// token minted or authorised. biscuit-wasm's memory grows with every such call and never shrinks,
// so it is compared with a process that imported biscuit-wasm alone.

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

test('importing the verifier library does no wasm work and prints nothing of its own', async () => {
  const [baseline, verifier] = await Promise.all([
    afterImport('@biscuit-auth/biscuit-wasm'),
    afterImport(pathToFileURL(join(root, 'src/verifier/index.ts')).href),
  ]);
  assert.equal(verifier.wasmBytes, baseline.wasmBytes, 'wasm memory after import equals biscuit-wasm\'s own');
  // The one line biscuit-wasm itself prints when its module starts.
  assert.equal(verifier.stdout, baseline.stdout);
  assert.equal(verifier.stderr, '');
});
