/**
 * A short reading of a V8 .cpuprofile (from `node --cpu-prof`): where the server's CPU time
 * went, by package and by function (self time), and the heaviest call paths (total time)
 * of our own code.
 */
import { readFileSync } from 'node:fs';

function packageOf(url) {
  if (!url) return '(native / vm)';
  if (url.startsWith('node:')) return 'node core';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return mod[1];
  if (url.includes('/packages/server/')) return 'latchkey (packages/server)';
  return url;
}

export function summariseProfile(file, top = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map(profile.nodes.map((n) => [n.id, 0]));
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const busy = total - [...idleIds].reduce((a, id) => a + (self.get(id) ?? 0), 0);

  const name = (n) => {
    const f = n.callFrame;
    const where = f.url
      ? `${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/packages\//, 'packages/')}:${f.lineNumber + 1}`
      : '';
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const add = (map, key, v) => map.set(key, (map.get(key) ?? 0) + v);

  const perPackage = new Map();
  const perFunction = new Map();
  for (const n of profile.nodes) {
    if (idleIds.has(n.id)) continue;
    const t = self.get(n.id) ?? 0;
    const special = n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : undefined;
    add(perPackage, special ?? packageOf(n.callFrame.url), t);
    add(perFunction, name(n), t);
  }

  // Total (inclusive) time of our own functions, counting each function once per stack.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, t] of self) {
    if (t === 0 || idleIds.has(id)) continue;
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n?.callFrame.url.includes('/packages/server/')) continue;
      const key = name(n);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, t);
    }
  }

  const pct = (t) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  const list = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `    ${pct(t)}  ${k}`)
      .join('\n');
  return [
    `  CPU profile ${file}`,
    `  busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s sampled; shares of busy time:`,
    '  self time by package:',
    list(perPackage, 12),
    '  self time by function:',
    list(perFunction, top),
    '  total time of latchkey functions:',
    list(inclusive, 10),
  ].join('\n');
}

// `node bench/lib/profile.mjs file.cpuprofile` prints the summary of an existing profile.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) process.stdout.write(`${summariseProfile(file)}\n`);
}
