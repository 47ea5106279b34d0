/**
 * `npm run faults`: three Latchkey nodes on one PostgreSQL and one Redis (private ones,
 * started here on free ports) behind a round-robin proxy, under load (password sign-ins,
 * refresh-token chains, client-credentials grants, admin API writes, and races that redeem one
 * code or refresh token at every node at once), while one after another (a) a node is
 * SIGKILLed and restarted, (b) PostgreSQL is restarted, (c) Redis is stopped and started again.
 * Revocations are drilled with Redis up and while it is down. It prints the figures and exits
 * 1 on any failure (see report.mjs and docs/faults.md). About a minute on 2 cores.
 *
 * Environment (optional): FAULTS_PG_BIN (PostgreSQL's binaries, /usr/lib/postgresql/15/bin),
 * FAULTS_QUIET_SECONDS (quiet time between faults, 6), FAULTS_NODE_OPTIONS (NODE_OPTIONS for the
 * nodes, e.g. --cpu-prof to study one), FAULTS_KEEP=1 (keep the logs and data
 * directories, and say where they are).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  acknowledgedWrites,
  checkDrill,
  prepareDrill,
  replayAll,
  revokeDrill,
  startProbes,
  startRaces,
} from './checks.mjs';
import { freePort, latchkeyNode, runDir, startPostgres, startRedis, teardown, track } from './cluster.mjs';
import { Client, now, Recorder, startLoad } from './load.mjs';
import { RECOVERY_LIMIT_MS, recoveredAt, report } from './report.mjs';

const print = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t = () => `[${(now() / 1000).toFixed(1).padStart(6)} s]`;
const step = (text) => print(`${t()} ${text}`);
const quietMs = Number(process.env.FAULTS_QUIET_SECONDS ?? 6) * 1000;
const CACHE_TTL_SECONDS = 5;

/** The nodes, for their logs when the run ends in an error. */
let running = [];
let cleaned = false;
function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  teardown();
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    print(`\n${signal}: stopping the cluster`);
    cleanUp();
    process.exit(130);
  });
}

async function main() {
  const started = now();
  const dir = runDir();
  step('PostgreSQL (private cluster), Redis (private), proxy, three nodes');
  const postgres = await startPostgres();
  const redis = await startRedis(dir);
  const nodePorts = [await freePort(), await freePort(), await freePort()];
  const proxy = await startProxyProcess(await freePort(), nodePorts);
  const proxyUrl = `http://127.0.0.1:${proxy.port}`;
  const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
  const env = {
    NODE_ENV: 'production',
    PUBLIC_URL: proxyUrl,
    TRUST_PROXY_HOPS: '1',
    DATABASE_URL: postgres.url,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: redis.url,
    LATCHKEY_SECRET: randomBytes(48).toString('base64'),
    LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
    LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS),
    LOG_LEVEL: 'warn',
    ...(process.env.FAULTS_NODE_OPTIONS ? { NODE_OPTIONS: process.env.FAULTS_NODE_OPTIONS } : {}),
  };
  const nodes = nodePorts.map((port, i) =>
    latchkeyNode({ name: `node${i + 1}`, port, dir, env: { ...env, LATCHKEY_DATA_DIR: join(dir, `data${i + 1}`) } }),
  );
  running = nodes;
  // All three at once on the empty database: one bootstraps, the others find it done.
  for (const node of nodes) node.start();
  await Promise.all(nodes.map((n) => n.ready()));
  // The proxy checks /readyz on its own clock: until its next check it still routes to none.
  await proxy.routingToAll();
  step(
    `ready: proxy ${proxyUrl}, nodes ${nodes.map((n) => n.port).join(', ')}, PostgreSQL ${postgres.port}, Redis ${redis.port}`,
  );

  const ctx = await setUp(proxyUrl, apiKey);
  const rec = new Recorder();
  const phases = [];
  const drills = [];
  const unexpectedExits = [];
  const phase = (name, fault = false) => {
    const previous = phases.at(-1);
    if (previous && previous.end === undefined) previous.end = now();
    const p = { name, fault, start: now() };
    phases.push(p);
    return p;
  };

  const probes = startProbes(ctx, rec, nodes);
  const load = startLoad(ctx, rec);
  const races = startRaces(ctx, rec, nodes);
  phase('before the faults');
  step('load running; revocation drill with Redis up');
  await sleep(2000);
  await drill('Redis up', async (d) => {
    const prepared = await prepareDrill(ctx, rec, nodes, 'drill: Redis up');
    const revokedAt = await revokeDrill(ctx, prepared, nodes);
    await checkAt(d, prepared, revokedAt, 1000, 'the notice time: Redis carries the change notice', true);
    await checkAt(d, prepared, revokedAt, (CACHE_TTL_SECONDS + 1) * 1000, 'CACHE_TTL_SECONDS and 1 s', false);
  });
  await sleep(2000);

  /** A fault window: `act` makes the fault and resolves at its end; then the recovery is awaited. */
  const fault = async (name, act) => {
    const w = phase(name, true);
    step(`fault ${name}`);
    await act(w);
    w.faultEnd = now();
    step(`fault over after ${((w.faultEnd - w.start) / 1000).toFixed(2)} s; waiting for recovery`);
    const deadline = w.faultEnd + RECOVERY_LIMIT_MS * 3;
    w.recovered = recoveredAt(rec.ops, w.faultEnd);
    while (w.recovered === undefined && now() < deadline) {
      await sleep(50);
      w.recovered = recoveredAt(rec.ops, w.faultEnd);
    }
    step(
      w.recovered === undefined ? 'NO RECOVERY' : `recovered in ${((w.recovered - w.faultEnd) / 1000).toFixed(2)} s`,
    );
    phase(`quiet after ${name.slice(0, 3)}`);
    await sleep(quietMs);
  };

  await fault('(a) node2 SIGKILLed, restarted 2 s later', async () => {
    await nodes[1].kill();
    await sleep(2000);
    nodes[1].start();
    await nodes[1].ready();
  });
  await fault('(b) PostgreSQL restarted (pg_ctl restart -m fast)', async () => {
    await postgres.restart();
  });
  let preparedDown;
  await drill('Redis down', async () => {
    preparedDown = await prepareDrill(ctx, rec, nodes, 'drill: Redis down');
  });
  await fault('(c) Redis stopped, started again 9 s later', async () => {
    const stoppedAt = now();
    await redis.stop();
    await sleep(1000);
    if (preparedDown) {
      await drill('Redis down', async (d) => {
        const at = await revokeDrill(ctx, preparedDown, nodes);
        await checkAt(
          d,
          preparedDown,
          at,
          (CACHE_TTL_SECONDS + 1) * 1000,
          'no notices: CACHE_TTL_SECONDS and 1 s',
          true,
        );
      });
    }
    await sleep(Math.max(0, stoppedAt + 9000 - now()));
    await redis.start();
  });

  step('stopping the load');
  await Promise.all([load.stop(), races.stop(), probes.stop()]);
  phases.at(-1).end = now();
  for (const node of nodes) {
    unexpectedExits.push(...node.unexpectedExits);
    if (!node.alive) unexpectedExits.push(`${node.name} is not running at the end`);
  }
  step('final checks: every used code and refresh token again at every node; every acknowledged user');
  await allReady();
  const finalErrors = [];
  const replays = await replayAll(ctx, rec, nodes).catch((err) => {
    finalErrors.push(`replaying used codes and refresh tokens failed: ${err.message}`);
    return { violations: [], counts: { codes: 0, refreshTokens: 0, requests: 0, noAnswer: 0, statuses: {} } };
  });
  const writes = await acknowledgedWrites(ctx, rec, nodes).catch((err) => {
    finalErrors.push(`checking the acknowledged users failed: ${err.message}`);
    return { acknowledged: rec.users.length, unknown: rec.unknownUsers.length, unknownFound: 0, missing: [] };
  });
  // Log times are epoch milliseconds; the run's clock is performance.now().
  const clockOffset = Date.now() - now();
  const errorLines = nodes.flatMap((n) => errorLinesOf(n, clockOffset));
  const failures = [
    ...finalErrors,
    ...report(print, { phases, rec, drills, replays, writes, unexpectedExits, errorLines }),
  ];
  for (const node of nodes) await node.stop();
  await proxy.stop();
  print(`\nTotal time ${((now() - started) / 1000).toFixed(1)} s.`);
  if (failures.length > 0) {
    print(`\nFAULT TEST FAILED (${failures.length}):`);
    for (const f of failures) print(`  - ${f}`);
    return 1;
  }
  print('\nFault test passed.');
  return 0;

  /** Every node that is running (a crashed one is started again) answering /readyz, or 30 s passed. */
  async function allReady() {
    await Promise.all(nodes.map((n) => n.ready().catch(() => undefined)));
  }

  /**
   * A revocation drill's step (drills with the same label are one drill in the report); an
   * error in it (say, a credential refused before its revocation) is the drill's failure, and
   * the run goes on.
   */
  async function drill(label, body) {
    let d = drills.find((x) => x.label === label);
    if (!d) {
      d = { label, checks: [], errors: [] };
      drills.push(d);
    }
    try {
      await allReady();
      await body(d);
    } catch (err) {
      d.errors.push(err instanceof Error ? err.message : String(err));
    }
  }

  /** Waits until `delayMs` after the revocation, then asks every node (report.mjs prints what each said). */
  async function checkAt(drill, prepared, revokedAt, delayMs, why, refreshToo) {
    await sleep(Math.max(0, revokedAt + delayMs - now()));
    const after = now() - revokedAt;
    drill.checks.push({ after, why, ...(await checkDrill(ctx, prepared, nodes, { refreshToo })) });
  }
}

/** The tenant and what the load needs in it, made through the proxy with the bootstrap key. */
async function setUp(proxyUrl, apiKey) {
  const client = new Client();
  const call = async (method, path, body, expected = 201) => {
    const answer = await client.json(`${proxyUrl}/api/v1${path}`, { method, token: apiKey, body });
    if (answer.status !== expected)
      throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return answer.body;
  };
  const slug = `faults-${randomBytes(3).toString('hex')}`;
  await call('POST', '/tenants', { slug, displayName: 'Fault test' });
  const redirectUri = 'http://127.0.0.1:9/faults/callback';
  const web = await call('POST', `/tenants/${slug}/clients`, {
    kind: 'web',
    name: 'Fault test web app',
    redirectUris: [redirectUri],
    firstParty: true,
  });
  const service = await call('POST', `/tenants/${slug}/clients`, { kind: 'service', name: 'Fault test service' });
  const users = [];
  for (let i = 0; i < 5; i++) {
    const user = { email: `person${i}@faults.test`, password: randomBytes(18).toString('base64url') };
    await call('POST', `/tenants/${slug}/users`, { ...user, emailVerified: true });
    users.push(user);
  }
  return {
    proxyUrl,
    apiKey,
    slug,
    issuer: `${proxyUrl}/t/${slug}`,
    redirectUri,
    web: { id: web.clientId, secret: web.clientSecret },
    service: { id: service.clientId, secret: service.clientSecret },
    users,
    raceUser: users[4],
  };
}

/** The proxy as a child process of its own (its event loop is not the load generator's). */
async function startProxyProcess(port, nodePorts) {
  const script = fileURLToPath(new URL('./proxy.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, String(port), ...nodePorts.map(String)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  track(child);
  await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d) => d.includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`the proxy exited (${code})`)));
  });
  return {
    port,
    /** Resolves once the proxy's own health checks have found every node ready (10 s at most). */
    async routingToAll(timeoutMs = 10_000) {
      const deadline = now() + timeoutMs;
      for (;;) {
        const stats = await fetch(`http://127.0.0.1:${port}/__proxy/stats`).then((r) => r.json());
        if (stats.nodes.every((n) => n.healthy)) return;
        if (now() > deadline) throw new Error(`the proxy had not found every node ready within ${timeoutMs / 1000} s`);
        await sleep(100);
      }
    },
    stop: () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * What a node's log says went wrong: its lines at level error (50) or fatal (60), as
 * "node: message: error", and a crash (an unhandled error event or exception, which Node writes
 * to stderr before exiting) with the error and what emitted it. `time` is on the run's clock.
 */
function errorLinesOf(node, clockOffset) {
  let lines = [];
  try {
    lines = readFileSync(node.logFile, 'utf8').split('\n');
  } catch {
    return [];
  }
  const found = [];
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('{')) {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.level < 50) continue;
      const err = entry.err ? `: ${entry.err.type}: ${String(entry.err.message).slice(0, 120)}` : '';
      found.push({ text: `${node.name}: ${entry.msg}${err}`, time: entry.time - clockOffset });
    } else if (/Unhandled 'error' event|Uncaught|unhandledRejection/.test(line)) {
      const rest = lines.slice(i + 1, i + 30);
      const error = rest.find((l) => /^\S/.test(l) && !/^\s*\^/.test(l)) ?? '?';
      const emitter = rest.find((l) => l.startsWith('Emitted ')) ?? '';
      const where = emitter ? (rest[rest.indexOf(emitter) + 1] ?? '').trim() : '';
      found.push({ crash: true, text: `${node.name} CRASHED: ${line.trim()}: ${error} ${emitter} ${where}`.trim() });
    }
  }
  return found;
}

main().then(
  (code) => {
    cleanUp();
    process.exit(code);
  },
  (err) => {
    print(`\nFAULT TEST FAILED: ${err instanceof Error ? err.stack : String(err)}`);
    for (const node of running) {
      const lines = node.logTail(10).split('\n');
      print(`\n${node.name} log (last lines):\n${lines.map((l) => l.slice(0, 300)).join('\n')}`);
    }
    cleanUp();
    process.exit(1);
  },
);
