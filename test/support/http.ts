// The tests drive pages with the same small cookie-jar client the demo story uses.
export * from '../../src/demo/browser.ts';
