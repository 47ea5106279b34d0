/**
 * autocannon, in this process, against the server process. GET loads draw each request's
 * path from a list (ids, search prefixes) so that caches and indexes see realistic spread;
 * other loads (the token endpoint) bring their own method, body and per-request setup.
 */
import autocannon from 'autocannon';
import { cpuSnapshot, cpuUsage } from './cpu.mjs';

/**
 * Runs `seconds` of load and returns requests/s, latency percentiles (ms) and every kind of
 * failure count.
 *
 * - `paths` (with `token` as a bearer token): GET requests rotating over the list.
 * - otherwise `request`: one autocannon request ({ method, path, headers, body, setupRequest,
 *   onResponse }) used for every call, and optionally `verifyBody(body) => boolean`: a body
 *   it rejects counts as a mismatch (a failure).
 */
export async function runLoad({ url, token, paths, request, verifyBody, connections, seconds, title }) {
  let requests;
  if (paths) {
    let i = Math.floor(Math.random() * paths.length);
    requests = [
      {
        method: 'GET',
        setupRequest(req) {
          i = (i + 7919) % paths.length; // a large prime stride: spread without repeats in a row
          req.path = paths[i];
          return req;
        },
      },
    ];
  } else {
    requests = [request];
  }
  const result = await autocannon({
    url,
    title,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    headers: token ? { authorization: `Bearer ${token}`, accept: 'application/json' } : { accept: 'application/json' },
    requests,
    ...(verifyBody ? { verifyBody } : {}),
  });
  return {
    connections,
    seconds: result.duration,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches ?? 0,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
  };
}

/** Anything but a clean run: non-2xx answers, connection errors, timeouts, rejected bodies. */
export function failures(r) {
  return r.non2xx + r.errors + r.timeouts + (r.mismatches ?? 0);
}

/** A figure's verdict beside its target. */
export function mark(ok) {
  return ok ? '✓ pass' : '✗ MISS';
}

/** A load run counts only if it completed requests and every one of them succeeded. */
export function valid(r) {
  return r !== undefined && r.requests > 0 && failures(r) === 0;
}

/**
 * Warm-up, a short trial at each connection count, then the measured run at the count that
 * reached the best throughput (the fewest connections within 3% of it: beyond saturation,
 * more connections only queue). With `p99Below` (a latency target, ms), the count kept is
 * instead the busiest whose trial p99 met it (the lowest p99 when none did): the throughput
 * the server sustains within that latency. `load` is what runLoad takes besides
 * connections, seconds and title, plus `serverPid`; `beforeRun(connections)`, when given, is
 * awaited before each run (to refill a pool of single-use tokens, say).
 */
export async function measureLoad(label, load, candidates, seconds, print, { beforeRun, p99Below } = {}) {
  const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d });
  const run = async (connections, s, title) => {
    await beforeRun?.(connections);
    return runLoad({ ...load, connections, seconds: s, title });
  };
  print(`  ${label}`);
  await run(candidates[0], 2, 'warm-up');
  let chosen = candidates[0];
  const trials = [];
  if (candidates.length > 1) {
    for (const c of candidates) {
      const r = await run(c, 3, `trial ${c}`);
      trials.push({ connections: c, rps: r.rps, p99: r.p99, failures: failures(r) });
    }
    const pick = p99Below === undefined ? { connections: busiest(trials), why: '' } : withinLatency(trials, p99Below);
    chosen = pick.connections;
    print(
      `    connections tried (3 s each): ${trials.map((r) => `${r.connections} → ${f(r.rps)} req/s, p99 ${f(r.p99, 1)} ms`).join('; ')}; keeping ${chosen}${pick.why}`,
    );
    await run(chosen, 2, 'warm-up');
  }
  await beforeRun?.(chosen);
  const before = cpuSnapshot(load.serverPid);
  const r = await runLoad({ ...load, connections: chosen, seconds, title: label });
  const cpu = cpuUsage(before, cpuSnapshot(load.serverPid));
  print(
    `    ${f(r.requests)} requests in ${r.seconds.toFixed(1)} s with ${chosen} connections: ${f(r.rps)} req/s, p50 ${f(r.p50, 1)} ms, p99 ${f(r.p99, 1)} ms, max ${f(r.max)} ms, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}, bad bodies ${r.mismatches}`,
  );
  printCpu(cpu, print);
  if (failures(r) > 0 || trials.some((t) => t.failures > 0)) {
    print(
      `\n    !!!!!!!! WARNING: ${label} had ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts and ${r.mismatches} bad bodies (status codes: ${JSON.stringify(r.statusCodes)}; trials: ${trials.map((t) => t.failures).join(', ') || '–'} failures). The figures above are not valid. !!!!!!!!\n`,
    );
  }
  if (r.requests === 0) print(`\n    !!!!!!!! WARNING: ${label} completed no request in ${seconds} s !!!!!!!!\n`);
  return { ...r, trials, cpu };
}

/** The fewest connections within 3% of the best throughput. */
function busiest(trials) {
  const best = Math.max(...trials.map((r) => r.rps));
  return trials.find((r) => r.rps >= best * 0.97)?.connections ?? trials[0].connections;
}

/**
 * The busiest clean trial whose p99 met the target, else the clean one with the lowest p99
 * (else, all having failed, the first); with the rule that chose it, for the log.
 */
function withinLatency(trials, p99Below) {
  const clean = trials.filter((r) => r.failures === 0);
  const met = clean.filter((r) => r.p99 < p99Below);
  if (met.length > 0) {
    const best = met.reduce((a, b) => (b.rps > a.rps ? b : a));
    return { connections: best.connections, why: ` (the busiest with p99 < ${p99Below} ms)` };
  }
  if (clean.length > 0) {
    const lowest = clean.reduce((a, b) => (b.p99 < a.p99 ? b : a));
    return { connections: lowest.connections, why: ` (none had p99 < ${p99Below} ms: the lowest p99)` };
  }
  return { connections: trials[0].connections, why: ' (every trial had failures)' };
}

/** The CPU line every measured phase prints (percent of one core; 200% = both of 2 cores). */
export function printCpu(cpu, print) {
  print(
    `    CPU (% of one core): server ${cpu.serverPct}% (its main thread ${cpu.serverMainThreadPct}%), load generator ${cpu.loadGeneratorPct}%, postgres ${cpu.postgresPct}%, other processes ${cpu.otherPct}%`,
  );
  if (cpu.otherPct > 15) {
    print(`    !! other processes used ${cpu.otherPct}% of a core during this run: the figures understate the server`);
  }
}
