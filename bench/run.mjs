/**
 * `npm run bench`: prints figures beside their targets. Not a test: it asserts nothing and
 * exits 0 when every run completed, whatever the figures.
 *
 * Scenarios: "core" (service core: ready time, memory, user lookup and search on 100,000
 * users; bench/scenarios/service-core.mjs), "oidc" (issue 3: client credentials, refresh
 * and complete password sign-ins, beside the argon2id and ES256 limits; bench/scenarios/oidc.mjs)
 * and "console" (issue 4: the admin console's first-load JavaScript, and the Users screen's
 * filter changes over 100,000 users in headless Chromium; bench/scenarios/console.mjs; SQLite only)
 * and "tickets" (issue 11: a batch of 1,000 email invitation tickets, the time to the answer and
 * until a local SMTP server has received every invitation; bench/scenarios/tickets.mjs)
 * and "accounts" (issue 11: a forgot-password request's answer time and server CPU beside the
 * sign-in page's, for a known, an unknown and a disabled account's address, and the gap between
 * unknown and known; bench/scenarios/accounts.mjs)
 * "import" (issue 13: 100,000 users with bcrypt hashes imported as JSON lines, users/s, and
 * the first sign-in of an imported bcrypt user; bench/scenarios/import.mjs) and "federation"
 * (issue 13: complete sign-ins through a stand-in upstream OpenID Connect provider beside
 * password sign-ins; bench/scenarios/federation.mjs).
 * Each runs on a fresh database per dialect.
 *
 * Environment (all optional):
 *   BENCH_SCENARIOS         core,oidc,console,tickets,accounts,import,federation (default all seven)
 *   BENCH_IMPORT_USERS      import: users in the file (100000)
 *   BENCH_DIALECTS          sqlite,postgres (default both; PostgreSQL is skipped when unreachable)
 *   BENCH_DATABASE_URL      PostgreSQL server to create the run's database on
 *                           (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_USERS             core, console: users to seed (100000)
 *   BENCH_SECONDS           measured seconds per autocannon run (10)
 *   BENCH_CONNECTIONS       connection counts to try (4,10,20,40): for throughput targets the busiest
 *                           (fewest within 3% of the best) is kept; for the list's p99 target, the
 *                           busiest whose p99 met it
 *   BENCH_LOADS             core: lookup,list (default both)
 *   BENCH_OIDC_LOADS        oidc: client-credentials,refresh,sign-in,burst (default all; burst: another
 *                           tenant's sign-in idle and during a burst of 200 sign-in POSTs from one address)
 *   BENCH_BURST_ROUNDS      oidc: rounds of the burst figure, each a burst and one timed sign-in (8)
 *   BENCH_PEER_PAIRS        oidc: runs of Latchkey and of the peer (bare oidc-provider) per load, one
 *                           after the other; the ratio printed is the median of the pairs' (3)
 *   BENCH_SAME_WORK_PEER    oidc: 0 leaves out the same-work peer (the peer issuing Latchkey's JWT access tokens)
 *   BENCH_SERVER_LOG_LEVEL  oidc: the servers' LOG_LEVEL (warn; info logs every request with its ms, to study one)
 *   BENCH_SIGNIN_SECONDS    oidc, federation: measured seconds of complete sign-ins (15)
 *   BENCH_SIGNIN_FLOWS      oidc, federation: concurrent sign-in flows (8)
 *   BENCH_CONSOLE_CHANGES   console: measured filter changes of each kind, search and status (10)
 *   BENCH_TICKET_ROUNDS     tickets: batches of 1,000 timed per dialect; the figures are their medians (3)
 *   BENCH_ACCOUNT_SAMPLES   accounts: timed requests of each kind (sign-in page, forgot password with a
 *                           known, an unknown and a disabled account's address) per dialect (200:
 *                           about 3 minutes a dialect, a known address's work coming up to 2 s late)
 *   BENCH_CPU_PROF          1: profile the server under load (node --cpu-prof) and print where time goes
 *                           (the profiler slows the server: such figures are not comparable); the
 *                           oidc scenario then starts a server per load phase, one profile each
 *   BENCH_TIMEOUT_SECONDS   hard limit for the whole run (3600; a full run of all five takes about 30 minutes)
 *   BENCH_KEEP              1: keep the seeded databases (and print where they are) to study them
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgres, createSqlite, defaultPostgresUrl, probePostgres } from './lib/databases.mjs';
import { mark, valid } from './lib/load.mjs';
import { summariseProfile } from './lib/profile.mjs';
import { killAllChildren } from './lib/server.mjs';
import * as accountsBench from './scenarios/accounts.mjs';
import * as consoleBench from './scenarios/console.mjs';
import * as federationBench from './scenarios/federation.mjs';
import * as importBench from './scenarios/import.mjs';
import * as oidc from './scenarios/oidc.mjs';
import { serviceCore, targets } from './scenarios/service-core.mjs';
import * as ticketsBench from './scenarios/tickets.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const env = process.env;
const users = Number(env.BENCH_USERS ?? 100_000);
const seconds = Number(env.BENCH_SECONDS ?? 10);
const connections = (env.BENCH_CONNECTIONS ?? '4,10,20,40')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const dialects = (env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const postgresUrl = env.BENCH_DATABASE_URL || env.TEST_DATABASE_URL || defaultPostgresUrl;
const cpuProf = env.BENCH_CPU_PROF === '1';
const timeoutSeconds = Number(env.BENCH_TIMEOUT_SECONDS ?? 3600);
const keep = env.BENCH_KEEP === '1';
const loads = (env.BENCH_LOADS ?? 'lookup,list').split(',').map((s) => s.trim());
const oidcLoads = (env.BENCH_OIDC_LOADS ?? 'client-credentials,refresh,sign-in,burst').split(',').map((s) => s.trim());
const signInSeconds = Number(env.BENCH_SIGNIN_SECONDS ?? 15);
const signInFlows = Number(env.BENCH_SIGNIN_FLOWS ?? 8);
const burstRounds = Number(env.BENCH_BURST_ROUNDS ?? 8);
const consoleChanges = Number(env.BENCH_CONSOLE_CHANGES ?? 10);
const ticketRounds = Number(env.BENCH_TICKET_ROUNDS ?? 3);
const accountSamples = Number(env.BENCH_ACCOUNT_SAMPLES ?? 200);
const importUsers = Number(env.BENCH_IMPORT_USERS ?? 100_000);
const scenarioNames = (env.BENCH_SCENARIOS ?? 'core,oidc,console,tickets,accounts,import,federation')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = join(here, 'results');
const runDir = join(resultsDir, stamp);
mkdirSync(runDir, { recursive: true });

const print = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n, digits = 0) =>
  n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

// Whatever happens, no server outlives the benchmark, and the PostgreSQL database goes.
let current;
async function cleanup() {
  killAllChildren();
  const db = current;
  current = undefined;
  if (db && keep) {
    print(`  kept: ${redact(db.url)}`);
    return;
  }
  if (db) await Promise.race([db.drop().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
}
process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    print(`\n${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}
const deadline = setTimeout(() => {
  print(`\n!! the benchmark exceeded BENCH_TIMEOUT_SECONDS=${timeoutSeconds}; stopping`);
  void cleanup().finally(() => finish({ timedOut: true }));
}, timeoutSeconds * 1000);
deadline.unref();

const scenarios = {
  core: {
    title: 'service core',
    settings: { users, seconds, connections, loads, warmupSeconds: 2 },
    targets,
    intro: () =>
      `${fmt(users)} users, ${seconds} s per measured run after a 2 s warm-up, connections tried: ${connections.join(', ')}`,
    run: (database, profileDir) =>
      serviceCore({
        database,
        users,
        seconds,
        connections,
        logDir: runDir,
        nodeArgs: cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        loads,
        print,
      }),
    summary: coreSummaryRows,
  },
  oidc: {
    title: 'oidc',
    settings: { seconds, connections, loads: oidcLoads, signInSeconds, signInFlows, burstRounds, warmupSeconds: 2 },
    targets: { ...oidc.targets, keycloakPerVcpu: oidc.keycloakPerVcpu },
    intro: () =>
      `client credentials and refresh: ${seconds} s per measured autocannon run after a 2 s warm-up, connections tried: ${connections.join(', ')}; password sign-ins: ${signInFlows} concurrent flows for ${signInSeconds} s after a 2 s warm-up`,
    run: (database, profileDir) =>
      oidc.oidcScenario({
        database,
        seconds,
        connections,
        signInSeconds,
        signInConcurrency: signInFlows,
        burstRounds,
        logDir: runDir,
        nodeArgsFor: cpuProf ? (phase) => ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, phase)}`] : undefined,
        loads: oidcLoads,
        print,
      }),
    summary: () => oidc.summaryRows(withMark),
  },
  console: {
    title: 'admin console',
    // The Users screen's figures are the browser's and the API's; the API's search over
    // PostgreSQL is the "core" scenario's.
    dialects: ['sqlite'],
    settings: { users, changes: consoleChanges },
    targets: consoleBench.targets,
    intro: () =>
      `first-load JavaScript of packages/admin/dist; the Users screen over ${fmt(users)} users in headless Chromium, ${consoleChanges} search and ${consoleChanges} status changes (SQLite only)`,
    run: (database) =>
      consoleBench.consoleScenario({ database, users, changes: consoleChanges, logDir: runDir, print }),
    summary: () => consoleBench.summaryRows(withMark),
  },
  tickets: {
    title: 'invitation tickets',
    settings: { batch: 1000, rounds: ticketRounds },
    targets: ticketsBench.targets,
    intro: () =>
      `${ticketRounds} batches of 1,000 email invitation tickets after a warm-up batch, each timed to the answer and until a local SMTP server has received every invitation`,
    run: (database) => ticketsBench.ticketsScenario({ database, rounds: ticketRounds, logDir: runDir, print }),
    summary: () => ticketsBench.summaryRows(withMark),
  },
  accounts: {
    title: 'forgot password',
    settings: { samples: accountSamples },
    targets: accountsBench.targets,
    intro: () =>
      `${accountSamples} timed requests of each kind, interleaved: the sign-in page, and the forgot-password form posted with a known, an unknown and a disabled account's address (answer time, and the server CPU until its work after the answer is done)`,
    run: (database) => accountsBench.accountsScenario({ database, samples: accountSamples, logDir: runDir, print }),
    summary: () => accountsBench.summaryRows(withMark),
  },
  import: {
    title: 'user import',
    settings: { users: importUsers },
    targets: importBench.targets,
    intro: () =>
      `${fmt(importUsers)} users with bcrypt hashes uploaded as JSON lines and applied in the background (users/s to the job's end); then 20 first sign-ins of imported bcrypt users beside the same users' next (argon2id) sign-in`,
    run: (database) => importBench.importScenario({ database, users: importUsers, logDir: runDir, print }),
    summary: () => importBench.summaryRows(withMark),
  },
  federation: {
    title: 'federated sign-in',
    settings: { seconds: signInSeconds, concurrency: signInFlows },
    targets: {},
    intro: () =>
      `complete sign-ins through a stand-in upstream OpenID Connect provider (bare oidc-provider, argon2id at its form) and password sign-ins of the same people: ${signInFlows} concurrent flows for ${signInSeconds} s each after a 2 s warm-up`,
    run: (database) =>
      federationBench.federationScenario({
        database,
        seconds: signInSeconds,
        concurrency: signInFlows,
        logDir: runDir,
        print,
      }),
    summary: () => federationBench.summaryRows(),
  },
};
const unknown = scenarioNames.filter((n) => !scenarios[n]);
const chosen = scenarioNames.filter((n) => scenarios[n]);

const cpus = os.cpus();
print(`Latchkey benchmark: ${chosen.map((n) => `scenario "${scenarios[n].title}"`).join(', ') || 'no scenario'}`);
if (unknown.length)
  print(`unknown scenario(s) in BENCH_SCENARIOS: ${unknown.join(', ')} (known: ${Object.keys(scenarios).join(', ')})`);
print(
  `machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, node ${process.version}; the load generator (autocannon, sign-in driver) shares the CPU with the server`,
);

const results = {};
let failed = unknown.length > 0;
for (const name of chosen) {
  const scenario = scenarios[name];
  const scenarioResults = {};
  results[name] = scenarioResults;
  print();
  print(`Scenario "${scenario.title}": ${scenario.intro()}`);
  for (const dialect of dialects) {
    print();
    if (scenario.dialects && !scenario.dialects.includes(dialect)) {
      print(`${dialect}: skipped, the "${scenario.title}" scenario runs on ${scenario.dialects.join(', ')} only`);
      scenarioResults[dialect] = { skipped: `runs on ${scenario.dialects.join(', ')} only` };
      continue;
    }
    if (dialect === 'postgres') {
      const probe = await probePostgres(postgresUrl);
      if (!probe.ok) {
        print(`PostgreSQL: skipped, ${redact(postgresUrl)} is unreachable (${probe.reason})`);
        scenarioResults.postgres = { skipped: `unreachable: ${probe.reason}` };
        continue;
      }
      print(`PostgreSQL ${probe.version} (a fresh database on ${redact(postgresUrl)}, dropped after the run)`);
    } else if (dialect === 'sqlite') {
      print('SQLite (a fresh file in a temporary directory)');
    } else {
      print(`unknown dialect "${dialect}" in BENCH_DIALECTS: skipped`);
      continue;
    }
    scenarioResults[dialect] = { error: 'did not finish' };
    try {
      current = dialect === 'sqlite' ? createSqlite() : await createPostgres(postgresUrl);
      const profileDir = join(runDir, `profile-${name}-${dialect}`);
      scenarioResults[dialect] = await scenario.run(current, profileDir);
      if (cpuProf) {
        for (const file of profilesUnder(profileDir)) {
          print(`  profile of ${relative(runDir, file)}:`);
          print(summariseProfile(file));
        }
      }
    } catch (err) {
      failed = true;
      print(`!! ${dialect} run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      scenarioResults[dialect] = { error: err instanceof Error ? err.message : String(err) };
    } finally {
      await cleanup();
    }
  }
}

finish({ timedOut: false });

/** Summary tables and the JSON file of what has run (all of it, or what ran before a timeout), then exit. */
function finish({ timedOut }) {
  for (const name of chosen) {
    if (!results[name]) continue;
    print();
    print(summaryTable(`Summary: ${scenarios[name].title}`, results[name], scenarios[name].summary()));
  }
  const json = {
    startedAt: stamp,
    ...(timedOut
      ? { timedOut: `after BENCH_TIMEOUT_SECONDS=${timeoutSeconds}: figures of the runs that completed` }
      : {}),
    machine: {
      cpus: cpus.length,
      model: cpus[0]?.model.trim(),
      memoryGiB: os.totalmem() / 2 ** 30,
      node: process.version,
    },
    scenarios: Object.fromEntries(
      chosen
        .filter((n) => results[n])
        .map((n) => [
          n,
          {
            title: scenarios[n].title,
            settings: scenarios[n].settings,
            targets: scenarios[n].targets,
            results: results[n],
          },
        ]),
    ),
  };
  const file = join(resultsDir, `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  print(`\nfigures written to ${file} (server logs in ${runDir})`);
  process.exit(failed || timedOut ? 1 : 0);
}

/** .cpuprofile files in `dir` and its subdirectories (one per server process). */
function profilesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return profilesUnder(path);
    return e.name.endsWith('.cpuprofile') ? [path] : [];
  });
}

/** Rows of the "service core" summary: [label, target, figure of one dialect's result]. */
function coreSummaryRows() {
  const load = (r, name, f) => (r[name] ? f(r[name]) : 'not run');
  return [
    ['seed: insert users', '', (r) => `${fmt(r.seed.insertMs / 1000, 1)} s`],
    [
      'ready (median of 3)',
      `< ${fmt(targets.readyMs)} ms`,
      (r) => withMark(`${fmt(r.ready.medianMs)} ms`, r.ready.medianMs < targets.readyMs),
    ],
    [
      'idle RSS',
      `< ${targets.idleRssMb} MB`,
      (r) => withMark(`${fmt(r.idleRssMb, 1)} MB`, r.idleRssMb < targets.idleRssMb),
    ],
    [
      'lookup req/s',
      `≥ ${fmt(targets.lookupRps)}`,
      (r) => load(r, 'lookup', (l) => withMark(fmt(l.rps), valid(l) && l.rps >= targets.lookupRps)),
    ],
    ['lookup p50 / p99', '', (r) => load(r, 'lookup', (l) => `${fmt(l.p50)} / ${fmt(l.p99)} ms`)],
    ['list req/s', '', (r) => load(r, 'list', (l) => fmt(l.rps))],
    [
      'list p50 / p99',
      `p99 < ${targets.listP99Ms} ms`,
      (r) =>
        load(r, 'list', (l) => withMark(`${fmt(l.p50)} / ${fmt(l.p99)} ms`, valid(l) && l.p99 < targets.listP99Ms)),
    ],
    [
      'failed: non-2xx+errors (lookup, list)',
      '0',
      (r) => {
        const n = [r.lookup, r.list].map((l) => (l ? l.non2xx + l.errors + l.timeouts : 0));
        return withMark(n.join(', '), n[0] + n[1] === 0);
      },
    ],
    ['connections (lookup, list)', '', (r) => [r.lookup?.connections ?? '–', r.list?.connections ?? '–'].join(', ')],
    [
      'CPU of other procs (ready, lookup, list)',
      '',
      (r) =>
        [r.ready.otherCpuPct, r.lookup?.cpu.otherPct, r.list?.cpu.otherPct]
          .map((p) => (p === undefined ? '–' : `${p}%`))
          .join(', '),
    ],
    ['RSS after load', '', (r) => `${fmt(r.rssAfterLoadMb, 1)} MB`],
  ];
}

function summaryTable(title, all, rows) {
  const cols = Object.keys(all);
  const rowsOut = rows.map(([label, target, f]) => [
    label,
    target,
    ...cols.map((d) => {
      const r = all[d];
      if (r?.skipped) return 'skipped';
      if (!r || r.error) return 'failed';
      try {
        return String(f(r) ?? '–');
      } catch {
        return '–';
      }
    }),
  ]);
  const header = ['', 'target', ...cols];
  const table = [header, ...rowsOut];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const render = (r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('   ')
      .trimEnd();
  return [title, render(header), widths.map((w) => '─'.repeat(w)).join('   '), ...rowsOut.map(render)].join('\n');
}

function withMark(text, ok) {
  return `${text} ${mark(ok)}`;
}

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
