// The Prometheus text exposition as the metrics tests read it.
import assert from 'node:assert/strict';

/**
 * Parses the text exposition; fails on any line that is not a comment or `name{labels} value`.
 * Keys are `name{a="1",b="2"}` with the labels sorted, so a lookup does not depend on their order.
 */
export function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? ([-+]?(?:[0-9.]+(?:e[-+]?[0-9]+)?|Inf)|NaN|Nan)$/.exec(line);
    assert.ok(m, `malformed exposition line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    series.set(`${m[1]}${labels.length ? `{${labels.join(',')}}` : ''}`, Number(m[3]!.replace(/^\+?Inf$/, 'Infinity')));
  }
  return series;
}

/** The key of a series with these labels, as parseExposition writes it. */
export const key = (name: string, labels: Record<string, string> = {}) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort();
  return `${name}${pairs.length ? `{${pairs.join(',')}}` : ''}`;
};
