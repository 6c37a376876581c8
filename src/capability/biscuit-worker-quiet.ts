// Imported first by biscuit-worker.ts, before biscuit-wasm: the library prints a line every time
// it loads, and a pool worker loads it again each time it is replaced. A worker logs nothing else.
console.log = () => {};
