// biscuit-wasm's linear memory, to measure what authorisations leave behind. The module is a
// singleton, so importing its .wasm by file URL returns the instance the library uses.
import '@biscuit-auth/biscuit-wasm';

const url = new URL('../module/biscuit_bg.wasm', import.meta.resolve('@biscuit-auth/biscuit-wasm'));
const wasm = await import(url.href) as { memory: WebAssembly.Memory };

/** Bytes of wasm linear memory (it only ever grows). */
export function wasmMemoryBytes(): number {
  return wasm.memory.buffer.byteLength;
}
