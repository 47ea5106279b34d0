/**
 * Scenario "service core": one tenant with 100,000 users; time to ready on an existing
 * database, idle memory, user lookup by id and user search (`q` prefix, 50 a page).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { otherProcessTicks, otherUsageSince } from '../lib/cpu.mjs';
import { mark, measureLoad, valid } from '../lib/load.mjs';
import { makeUsers, sampleIds, samplePrefixes } from '../lib/people.mjs';
import { adminApi, finishServer, rssMb, spawnServer, stopServer, waitReady } from '../lib/server.mjs';

export const targets = {
  readyMs: 1000,
  idleRssMb: 120,
  lookupRps: 5000,
  listP99Ms: 25,
};

const TENANT = 'bench';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/**
 * @param {object} o
 * @param {{dialect: string, url: string, dataDir: string, insertUsers(rows): Promise<void>}} o.database
 * @param {number} o.users how many users to seed
 * @param {number} o.seconds measured seconds per load run
 * @param {number[]} o.connections candidate connection counts; the best is kept
 * @param {string} o.logDir where server logs (and CPU profiles) go
 * @param {string[]} [o.nodeArgs] extra node flags for the server under load (e.g. --cpu-prof)
 * @param {string[]} [o.loads] which loads to run: lookup, list (default both)
 * @param {(line: string) => void} o.print
 */
export async function serviceCore({
  database,
  users,
  seconds,
  connections,
  logDir,
  nodeArgs = [],
  loads = ['lookup', 'list'],
  print,
}) {
  const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
  const logFile = join(logDir, `server-${database.dialect}.log`);
  const servers = [];
  const start = (extra = {}) =>
    spawnServer({ databaseUrl: database.url, dataDir: database.dataDir, apiKey, logFile, ...extra }).then((s) => {
      servers.push(s);
      return s;
    });
  const figures = { dialect: database.dialect, users };
  try {
    // Seed: the server migrates and bootstraps an empty database, we create the tenant over
    // the API, then insert the users directly.
    let t = performance.now();
    const first = await start();
    await waitReady(first);
    const tenant = await adminApi(first.url, apiKey)('POST', '/api/v1/tenants', {
      slug: TENANT,
      displayName: 'Benchmark Inc.',
    });
    await stopServer(first);
    const bootstrapMs = performance.now() - t;
    t = performance.now();
    const rows = makeUsers(tenant.id, users);
    const generateMs = performance.now() - t;
    t = performance.now();
    await database.insertUsers(rows);
    const insertMs = performance.now() - t;
    figures.seed = { bootstrapMs, generateMs, insertMs };
    print(
      `  seed: first start + tenant ${fmt(bootstrapMs)} ms; ${fmt(users)} users generated in ${fmt(generateMs)} ms, inserted in ${fmt(insertMs / 1000, 1)} s`,
    );

    // Ready time on the existing database, three cold starts; the last server stays up.
    const readyRuns = [];
    const othersBefore = otherProcessTicks();
    let server;
    for (let run = 0; run < 3; run++) {
      server = await start(run === 2 ? { nodeArgs } : {});
      readyRuns.push(await waitReady(server));
      if (run < 2) await stopServer(server);
    }
    const otherPct = otherUsageSince(othersBefore);
    figures.ready = { runsMs: readyRuns, medianMs: median(readyRuns), otherCpuPct: otherPct };
    print(
      `  ready: ${readyRuns.map((ms) => `${fmt(ms)} ms`).join(', ')} → median ${fmt(figures.ready.medianMs)} ms  ${mark(figures.ready.medianMs < targets.readyMs)} (target < ${fmt(targets.readyMs)} ms)`,
    );
    if (otherPct > 15) {
      print(`    !! other processes used ${otherPct}% of a core during these starts: they slow them down`);
    }

    await sleep(2000);
    figures.idleRssMb = rssMb(server.pid);
    print(
      `  idle RSS: ${fmt(figures.idleRssMb, 1)} MB  ${mark(figures.idleRssMb < targets.idleRssMb)} (target < ${targets.idleRssMb} MB)`,
    );

    const base = `/api/v1/tenants/${TENANT}/users`;
    const lookupPaths = sampleIds(rows, 4000).map((id) => `${base}/${id}`);
    const listPaths = samplePrefixes(rows, 2000).map((p) => `${base}?limit=50&q=${encodeURIComponent(p)}`);
    await sanityCheck(server.url, apiKey, lookupPaths[0], listPaths[0]);

    const load = { url: server.url, token: apiKey, serverPid: server.pid };
    if (loads.includes('lookup')) {
      const lookup = { ...load, paths: lookupPaths };
      figures.lookup = await measureLoad('lookup GET …/users/{id}', lookup, connections, seconds, print);
      const ok = valid(figures.lookup) && figures.lookup.rps >= targets.lookupRps;
      print(`    → ${fmt(figures.lookup.rps)} req/s  ${mark(ok)} (target ≥ ${fmt(targets.lookupRps)} req/s)`);
    }
    if (loads.includes('list')) {
      const list = { ...load, paths: listPaths };
      figures.list = await measureLoad('list GET …/users?limit=50&q=…', list, connections, seconds, print, {
        p99Below: targets.listP99Ms,
      });
      const ok = valid(figures.list) && figures.list.p99 < targets.listP99Ms;
      print(`    → p99 ${fmt(figures.list.p99, 1)} ms  ${mark(ok)} (target < ${targets.listP99Ms} ms)`);
    }

    await finishServer(server, figures, print, fmt);
    return figures;
  } finally {
    await Promise.all(servers.map((s) => stopServer(s, { graceMs: 5000 })));
  }
}

/** One request of each kind must succeed and return data before load means anything. */
async function sanityCheck(url, token, lookupPath, listPath) {
  const headers = { authorization: `Bearer ${token}` };
  const one = await fetch(`${url}${lookupPath}`, { headers });
  const user = await one.json();
  if (one.status !== 200 || !user.id)
    throw new Error(`GET ${lookupPath} answered ${one.status}: ${JSON.stringify(user)}`);
  const list = await fetch(`${url}${listPath}`, { headers });
  const page = await list.json();
  if (list.status !== 200 || !Array.isArray(page.items) || page.items.length === 0) {
    throw new Error(`GET ${listPath} answered ${list.status} with ${JSON.stringify(page).slice(0, 300)}`);
  }
}
