// Reads a V8 .cpuprofile and sums self time by function, by file and by area (our code, a
// package, Node internals, GC), so the top of a profile can be read in a report.
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileEntry { name: string; ms: number; pct: number }
export interface ProfileSummary {
  total_ms: number;
  /** Self time outside idle. */
  busy_ms: number;
  by_area: ProfileEntry[];
  by_file: ProfileEntry[];
  by_function: ProfileEntry[];
}

const ROOT = new URL('../../', import.meta.url).href;

function shortUrl(url: string): string {
  if (!url) return '';
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  return url.replace(/^file:\/\//, '');
}

export function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = shortUrl(url);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  if (pkg) return pkg;
  if (path.startsWith('node:') || !path.includes('/')) return 'node internals';
  if (path.startsWith('src/')) return path.split('/').slice(0, 2).join('/');
  return path;
}

function top(map: Map<string, number>, busy: number, n: number): ProfileEntry[] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: Math.round((us / busy) * 1000) / 10 }));
}

export function summarizeProfile(file: string, n = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    total += us;
    if (frame.functionName === '(idle)') { idle += us; continue; }
    const file = shortUrl(frame.url) || frame.functionName;
    const fn = `${frame.functionName || '(anonymous)'} ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    const a = area(frame.url, frame.functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  return {
    total_ms: Math.round(total / 1000),
    busy_ms: Math.round(busy / 1000),
    by_area: top(byArea, busy, n),
    by_file: top(byFile, busy, n),
    by_function: top(byFunction, busy, n),
  };
}
