/**
 * The fault test's figures and verdict. The run is a sequence of phases: quiet ones and fault
 * windows. A fault window lasts from the fault's start to the recovery after its end (the first
 * successful sign-in, refresh, client-credentials grant and admin write started after it); an
 * operation that overlaps a window belongs to it, any other to the quiet phase it started in.
 * Failures in a window are counted and shown; in a quiet phase every one fails the test.
 */
export const KINDS = ['sign-in', 'refresh', 'client-credentials', 'admin-write', 'race'];
/** The kinds whose success after a fault's end is its recovery. */
export const RECOVERY_KINDS = ['sign-in', 'refresh', 'client-credentials', 'admin-write'];
export const RECOVERY_LIMIT_MS = 10_000;

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** When every recovery kind has succeeded in an operation started after `after`: the latest of those ends. */
export function recoveredAt(ops, after) {
  let latest = after;
  for (const kind of RECOVERY_KINDS) {
    const first = ops.find((o) => o.kind === kind && o.ok && o.start >= after);
    if (!first) return undefined;
    latest = Math.max(latest, first.end);
  }
  return latest;
}

/** The phase an operation (or probe) belongs to. */
export function phaseOf(item, phases) {
  for (const p of phases) {
    if (p.fault && item.start <= p.end && item.end >= p.start) return p;
  }
  return phases.findLast((p) => p.start <= item.start) ?? phases[0];
}

function countBy(items, key) {
  const counts = new Map();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/**
 * Prints the figures and returns the reasons to fail. `run` holds the phases, the recorder,
 * the drills' and final checks' results, and the nodes' unexpected exits and error log lines.
 */
export function report(print, run) {
  const { phases, rec } = run;
  const failures = [...rec.violations];
  const byPhase = new Map(phases.map((p) => [p, { ops: [], probes: [] }]));
  for (const op of rec.ops) byPhase.get(phaseOf(op, phases)).ops.push(op);
  for (const probe of rec.probes) byPhase.get(phaseOf(probe, phases)).probes.push(probe);

  print('\nOperations through the proxy per phase (succeeded/failed; slowest answer):');
  const width = Math.max(...phases.map((p) => p.name.length)) + 10;
  print(`  ${'phase'.padEnd(width)}${KINDS.map((k) => k.padStart(20)).join('')}`);
  for (const p of phases) {
    const { ops } = byPhase.get(p);
    const cells = KINDS.map((kind) => {
      const of = ops.filter((o) => o.kind === kind);
      const slowest = Math.max(0, ...of.map((o) => o.end - o.start));
      return `${of.filter((o) => o.ok).length}/${of.filter((o) => !o.ok).length} ${(slowest / 1000).toFixed(1)}s`.padStart(
        20,
      );
    });
    print(`  ${`${p.name} (${s(p.end - p.start)})`.padEnd(width)}${cells.join('')}`);
  }

  print('\nErrors by kind (operation: status and error code, or socket error; node that answered):');
  let anyError = false;
  for (const p of phases) {
    const failed = byPhase.get(p).ops.filter((o) => !o.ok);
    if (failed.length === 0) continue;
    anyError = true;
    print(`  ${p.name}:`);
    for (const [what, n] of countBy(failed, (o) => `${o.kind}: ${o.error}${o.node ? ` (${o.node})` : ''}`)) {
      print(`    ${String(n).padStart(4)} × ${what}`);
    }
    if (!p.fault) {
      for (const o of failed.slice(0, 5)) {
        failures.push(
          `${o.kind} failed outside the fault windows (${p.name}, at ${s(o.start)}): ${o.error}: ${o.detail}`,
        );
      }
      if (failed.length > 5) failures.push(`… and ${failed.length - 5} more failures in ${p.name}`);
    }
    const hung = failed.filter((o) => o.error === 'timeout');
    if (hung.length > 0) failures.push(`${hung.length} operation(s) got no answer within 10 s in ${p.name}`);
  }
  if (!anyError) print('  none');

  print('\nDirect probes (admin API read at each node every 0.5 s, not through the proxy):');
  for (const p of phases) {
    const { probes } = byPhase.get(p);
    const lines = [];
    for (const node of [...new Set(probes.map((x) => x.node))].sort()) {
      const of = probes.filter((x) => x.node === node);
      const slowest = Math.max(0, ...of.map((x) => x.end - x.start));
      const results = countBy(of, (x) => x.result)
        .map(([r, n]) => `${r} ×${n}`)
        .join(', ');
      lines.push(`${node}: ${results}; slowest ${Math.round(slowest)} ms`);
      // A node that is down outside a fault window has exited by itself: reported as such below.
      const bad = of.filter((x) => x.result !== 'ok' && !x.down);
      if (!p.fault && bad.length > 0)
        failures.push(`${node} failed ${bad.length} direct probe(s) in ${p.name}: ${bad[0].result}`);
      if (of.some((x) => x.result === 'timeout'))
        failures.push(`${node} left a probe unanswered for 10 s in ${p.name}`);
    }
    print(`  ${p.name}: ${lines.join(' | ')}`);
  }

  print(
    '\nRecovery (from the end of the fault to the first successful sign-in, refresh, client credentials and admin write):',
  );
  for (const p of phases.filter((x) => x.fault)) {
    const took = p.recovered === undefined ? undefined : p.recovered - p.faultEnd;
    print(`  ${p.name}: fault lasted ${s(p.faultEnd - p.start)}; recovery ${took === undefined ? 'NONE' : s(took)}`);
    if (took === undefined || took > RECOVERY_LIMIT_MS) {
      failures.push(
        `${p.name}: recovery ${took === undefined ? 'did not happen' : `took ${s(took)}`} (limit ${s(RECOVERY_LIMIT_MS)})`,
      );
    }
  }

  print("\nRevocation drills (an API key, a service client and a user's sessions revoked; every node asked directly):");
  for (const d of run.drills) {
    print(`  ${d.label}:`);
    for (const e of d.errors) {
      print(`    NOT DONE: ${e}`);
      failures.push(`revocation drill (${d.label}) not done: ${e}`);
    }
    for (const c of d.checks) {
      print(
        `    +${s(c.after)} after the revocation (${c.why}): ${c.found.length === 0 ? 'all refused' : c.found.join('; ')}`,
      );
      print(`      ${c.asked.join(', ')}`);
      failures.push(...c.found.map((f) => `${f}, ${s(c.after)} after the revocation (${c.why})`));
    }
  }

  const { replays, writes } = run;
  print('\nFinal checks (load stopped; every node asked directly):');
  print(
    `  used codes ${replays.counts.codes}, used refresh tokens ${replays.counts.refreshTokens}: ${replays.counts.requests} replays, ` +
      `answers ${Object.entries(replays.counts.statuses)
        .map(([st, n]) => `${st} ×${n}`)
        .join(', ')}${replays.counts.noAnswer ? `, no answer ×${replays.counts.noAnswer}` : ''}; ` +
      `accepted twice: ${replays.violations.length}`,
  );
  failures.push(...replays.violations.slice(0, 10));
  print(
    `  users created: ${writes.acknowledged} acknowledged, all present on every node: ${writes.missing.length === 0 ? 'yes' : 'NO'}; ` +
      `${writes.unknown} unanswered (${writes.unknownFound} of them present)`,
  );
  failures.push(...writes.missing.slice(0, 10).map((m) => `acknowledged user ${m}`));
  if (writes.missing.length > 10) failures.push(`… ${writes.missing.length - 10} more acknowledged users missing`);

  for (const exit of run.unexpectedExits) failures.push(exit);
  failures.push(...new Set(run.errorLines.filter((l) => l.crash).map((l) => l.text)));
  if (run.errorLines.length > 0) {
    print("\nThe nodes' logs: errors and crashes (level error or fatal, by message):");
    for (const [text, n] of countBy(run.errorLines, (l) => l.text)) {
      const first = run.errorLines.find((l) => l.text === text);
      print(`  ${String(n).padStart(4)} × ${text}${first.time === undefined ? '' : ` (first at ${s(first.time)})`}`);
    }
  }
  return failures;
}
