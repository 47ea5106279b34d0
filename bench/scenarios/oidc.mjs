/**
 * Scenario "oidc" (issue 3): the token endpoint and the sign-in pages under load, beside the
 * two limits they cannot beat on this machine, measured in the same run:
 *
 * - client credentials grants/s (a service client, HTTP Basic);
 * - refresh grants/s: refresh tokens rotate and a replayed one revokes its whole grant, so
 *   every request spends a fresh token from a pool minted by authorization code flows (one
 *   sign-in, then the browser session), and each answer's new token goes back to the pool;
 * - complete password sign-ins/s: authorize → sign-in form → code → token, each flow with
 *   its own cookie jar and client address (X-Forwarded-For), by a small concurrent driver; then the CPU of one sign-in, request by
 *   request (`signInSteps`);
 * - the limits: argon2id hashes/s at the server's parameters (2 at a time, in this process,
 *   the server idle) and ES256 signatures/s (node:crypto, one thread);
 * - fairness (issue 9): another tenant's sign-in (form POST → code) idle, then while one
 *   address sends a burst of 200 concurrent sign-in POSTs with unknown emails to the first
 *   tenant (`burstFairness`); target: under 3 × idle. Addresses come from X-Forwarded-For
 *   (the server trusts one proxy hop), as behind a load balancer.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { hash } from '@node-rs/argon2';
import {
  authorizationRequest,
  Browser,
  basicAuth,
  codeFlow,
  codeFrom,
  exchangeCode,
  expectSignInPage,
  flowDriver,
  passwordSignIn,
} from '../lib/browser.mjs';
import { cpuSnapshot, cpuUsage, ticksToMs } from '../lib/cpu.mjs';
import { failures, mark, measureLoad, printCpu, runLoad, valid } from '../lib/load.mjs';
import { adminApi, finishServer, rssMb, spawnPeer, spawnServer, stopServer, waitReady } from '../lib/server.mjs';

export const targets = {
  /**
   * Latchkey's throughput over the peer's (bare oidc-provider in memory, peers/oidc-provider.mjs)
   * in the same run, per dialect (issue 10): the peer keeps nothing, a refresh here reaches the disk.
   */
  versusPeer: {
    sqlite: { clientCredentials: 0.9, refresh: 0.7, signIns: 0.9 },
    postgres: { clientCredentials: 0.8, refresh: 0.5, signIns: 0.8 },
  },
  /** Another tenant's sign-in during a burst from one address, as a multiple of its idle time. */
  burstSlowdown: 3,
};

/** Keycloak's sizing guide (for scale, not a target): per vCPU. */
export const keycloakPerVcpu = { clientCredentials: 120, passwordSignIns: 15 };

/** The server's parameters (packages/server/src/passwords/hash.ts); 2 = Argon2id. */
const argon2Params = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

const TENANT = 'bench';
/** The tenant whose sign-ins are timed while `TENANT` takes a burst. */
const OTHER_TENANT = 'bench-other';
/** The burst: concurrent sign-in POSTs from one address; rounds, each from a new address. */
const BURST = 200;
const BURST_ROUNDS = 8;
/** Idle sign-ins per round, before its burst. */
const IDLE_PER_ROUND = 2;
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const SCOPE = 'openid email profile offline_access';
const USERS = 8;
const MINT_TABS = 4;
/** Sign-ins measured step by step, and how many run each step at once. */
const STEP_FLOWS = 300;
const STEP_CONCURRENCY = 4;
/** Latchkey–peer pairs of runs per load (BENCH_PEER_PAIRS); the ratio is their median. */
const peerPairs = Math.max(1, Number(process.env.BENCH_PEER_PAIRS ?? 3));
/** Whether the same-work peer runs beside the peer (BENCH_SAME_WORK_PEER=0 leaves it out). */
const sameWorkPeer = process.env.BENCH_SAME_WORK_PEER !== '0';
/** A load run's requests/s, or 0 when anything in it failed (a pair that does not count). */
const rateOf = (r) => (valid(r) ? r.rps : 0);
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;

/**
 * @param {object} o
 * @param {{dialect: string, url: string, dataDir: string}} o.database a fresh, empty database
 * @param {number} o.seconds measured seconds per autocannon run
 * @param {number[]} o.connections candidate connection counts; the best is kept
 * @param {number} o.signInSeconds measured seconds of the sign-in driver
 * @param {number} o.signInConcurrency concurrent sign-in flows
 * @param {string} o.logDir where server logs go
 * @param {(phase: string) => string[]} [o.nodeArgsFor] node flags for the server of a phase
 *   (--cpu-prof); when given, each load phase gets its own server process, so its own profile
 * @param {string[]} [o.loads] which loads to run: client-credentials, refresh, sign-in, burst (default all)
 * @param {number} [o.burstRounds] rounds of the burst figure (default 8)
 * @param {(line: string) => void} o.print
 */
export async function oidcScenario({
  database,
  seconds,
  connections,
  signInSeconds,
  signInConcurrency,
  logDir,
  nodeArgsFor,
  loads = ['client-credentials', 'refresh', 'sign-in', 'burst'],
  burstRounds = BURST_ROUNDS,
  print,
}) {
  const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
  const logFile = join(logDir, `server-oidc-${database.dialect}.log`);
  const servers = [];
  const start = async (phase) => {
    const s = await spawnServer({
      databaseUrl: database.url,
      dataDir: database.dataDir,
      apiKey,
      logFile,
      nodeArgs: phase ? (nodeArgsFor?.(phase) ?? []) : [],
      // Client addresses from X-Forwarded-For: the burst's address is not the timed sign-in's.
      env: { TRUST_PROXY_HOPS: '1', LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'warn' },
    });
    servers.push(s);
    await waitReady(s);
    return s;
  };
  const figures = { dialect: database.dialect };
  let server;
  /** With profiling, a fresh server per load phase (its own profile); else one server throughout. */
  const serverFor = async (phase) => {
    if (!nodeArgsFor) return server;
    if (server) await stopServer(server);
    server = await start(phase);
    return server;
  };
  try {
    // Setup: a tenant, a service client, a first-party web client and a few users with passwords.
    const t = performance.now();
    server = await start();
    const api = adminApi(server.url, apiKey);
    await api('POST', '/api/v1/tenants', { slug: TENANT, displayName: 'Benchmark Inc.' });
    const service = await api('POST', `/api/v1/tenants/${TENANT}/clients`, { kind: 'service', name: 'Bench service' });
    const web = await api('POST', `/api/v1/tenants/${TENANT}/clients`, {
      kind: 'web',
      name: 'Bench web app',
      redirectUris: [REDIRECT_URI],
      firstParty: true,
    });
    const serviceClient = { id: service.clientId, secret: service.clientSecret };
    const webClient = { id: web.clientId, secret: web.clientSecret };
    const people = Array.from({ length: USERS }, (_, i) => ({
      email: `signin${i}@bench.example`,
      password: `bench password ${i} ${randomBytes(6).toString('hex')}`,
    }));
    for (let i = 0; i < people.length; i += 2) {
      await Promise.all(
        people.slice(i, i + 2).map((p) =>
          api('POST', `/api/v1/tenants/${TENANT}/users`, {
            email: p.email,
            password: p.password,
            displayName: p.email.split('@')[0],
            emailVerified: true,
          }),
        ),
      );
    }
    print(
      `  setup: tenant, a service client, a first-party web client and ${USERS} users with passwords in ${fmt(performance.now() - t)} ms`,
    );

    // The limits, with the server up and idle.
    const idle = server;
    await new Promise((r) => setTimeout(r, 500));
    const argonSeconds = 5;
    let before = cpuSnapshot(idle.pid);
    figures.argon2 = await argon2Rate(argonSeconds, 2);
    figures.argon2.cpu = cpuUsage(before, cpuSnapshot(idle.pid));
    print(
      `  limit: argon2id (m=19456, t=2, p=1), 2 at a time in the bench process: ${fmt(figures.argon2.rate, 1)} hashes/s (${figures.argon2.hashes} in ${fmt(figures.argon2.seconds, 1)} s; one hash ${fmt(figures.argon2.meanMs, 1)} ms on average)`,
    );
    printLimitCpu(figures.argon2.cpu, print);
    before = cpuSnapshot(idle.pid);
    figures.es256 = es256Rate(3);
    figures.es256.cpu = cpuUsage(before, cpuSnapshot(idle.pid));
    print(
      `  limit: ES256 signatures (node:crypto, P-256, one thread): ${fmt(figures.es256.rate)} signatures/s (${fmt(figures.es256.signatures)} in ${fmt(figures.es256.seconds, 1)} s)`,
    );
    printLimitCpu(figures.es256.cpu, print);
    print(
      `  for scale, Keycloak's sizing guide budgets one vCPU per ${keycloakPerVcpu.clientCredentials} client-credentials grants/s and per ${keycloakPerVcpu.passwordSignIns} password sign-ins/s (≈ ${2 * keycloakPerVcpu.clientCredentials} and ${2 * keycloakPerVcpu.passwordSignIns} on 2 vCPUs)`,
    );

    // The peer: bare oidc-provider doing the same flows, in memory (peers/oidc-provider.mjs);
    // and the same peer doing the same work with each access token as Latchkey (a JWT for a
    // default resource, signed with ES256, with roles) rather than its default opaque token.
    const withPeers = loads.some((l) => l !== 'burst');
    const peer = withPeers ? await startPeer({ people, database, logDir, nodeArgsFor }) : undefined;
    const sameWork =
      withPeers && sameWorkPeer
        ? await startPeer({ people, database, logDir, nodeArgsFor, jwtAccessTokens: true })
        : undefined;
    if (peer) {
      figures.peer = {};
      print(
        `  peer: bare oidc-provider 9 (its defaults, an in-memory Map store, a labelled form, the same argon2id verify) started in ${fmt(peer.readyMs)} ms`,
      );
    }
    if (sameWork) {
      figures.sameWorkPeer = {};
      print(
        `  same-work peer: the peer with Latchkey's access tokens (resource indicators, JWT, ES256, roles) started in ${fmt(sameWork.readyMs)} ms`,
      );
    }
    /**
     * One load, `run(label, target, client)`, against Latchkey (`ours`: its server and client)
     * and then the peer (and the same-work peer), each a full measurement (kept as the
     * figures); then `PEER_PAIRS - 1` more runs of each, one after the other, at the
     * connections each chose. The ratio is the median of the pairs' ratios: this machine's
     * speed drifts (other guests), and a pair's runs see nearly the same machine. `ok`:
     * whether a figure counts.
     */
    const sideBySide = async (name, label, run, ours, ok, unit) => {
      const mine = await run(label, ...ours);
      figures[name] = mine.figure;
      if (!peer) return;
      const clientOf = (p) => (name === 'clientCredentials' ? p.serviceClient : p.webClient);
      const theirs = await run(`peer, ${label}`, peer, clientOf(peer));
      figures.peer[name] = theirs.figure;
      const same = sameWork ? await run(`same-work peer, ${label}`, sameWork, clientOf(sameWork)) : undefined;
      if (same) figures.sameWorkPeer[name] = same.figure;
      const pairs = [[mine.figure.rps, theirs.figure.rps, ...(same ? [same.figure.rps] : [])]];
      for (let i = 1; i < peerPairs; i++) {
        pairs.push([await mine.again(), await theirs.again(), ...(same ? [await same.again()] : [])]);
      }
      const median = (column) => {
        const ratios = pairs.map((p) => (p[column] > 0 ? p[0] / p[column] : 0)).sort((a, b) => a - b);
        return ratios[Math.floor(ratios.length / 2)] ?? 0;
      };
      const ratio = median(1);
      figures.versusPeer ??= {};
      figures.versusPeer[name] = ratio;
      figures.versusPeerPairs ??= {};
      figures.versusPeerPairs[name] = pairs;
      const target = targets.versusPeer[database.dialect]?.[name];
      print(
        `    runs (Latchkey / peer${same ? ' / same-work peer' : ''}, ${unit}): ${pairs.map((p) => `${p.map((x) => fmt(x, 1)).join(' / ')} = ${fmt(p[1] > 0 ? p[0] / p[1] : 0, 2)}${same ? `, ${fmt(p[2] > 0 ? p[0] / p[2] : 0, 2)}` : ''}`).join('; ')}`,
      );
      print(
        `    → Latchkey ${fmt(mine.figure.rps, 1)} ${unit}, peer ${fmt(theirs.figure.rps, 1)} ${unit}: ${fmt(ratio, 2)} × the peer (median of ${pairs.length} pairs)  ${mark(ok(mine.figure) && ok(theirs.figure) && pairs.every(([a, b]) => a > 0 && b > 0) && ratio >= target)} (target ≥ ${target} × on ${database.dialect})`,
      );
      if (same) {
        figures.versusSameWorkPeer ??= {};
        figures.versusSameWorkPeer[name] = median(2);
        print(
          `    → the same-work peer ${fmt(same.figure.rps, 1)} ${unit}: Latchkey is ${fmt(median(2), 2)} × it (median; for information)`,
        );
      }
    };

    // Client credentials.
    if (loads.includes('client-credentials')) {
      const s = await serverFor('client-credentials');
      const run = async (label, target, client) => {
        await sanityClientCredentials(`${target.url}/t/${TENANT}`, client, target.opaqueAccessTokens !== true);
        const load = {
          url: target.url,
          serverPid: target.pid,
          request: tokenRequest(client, { body: 'grant_type=client_credentials' }),
          verifyBody: (body) => body.includes('"access_token"'),
        };
        const r = await measureLoad(
          `${label}: POST /t/{slug}/token grant_type=client_credentials`,
          load,
          connections,
          seconds,
          print,
        );
        print(`    ${label}: ${fmt(r.rps)} grants/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`);
        return {
          figure: r,
          again: async () => rateOf(await runLoad({ ...load, connections: r.connections, seconds })),
        };
      };
      await sideBySide('clientCredentials', 'client credentials', run, [s, serviceClient], valid, 'grants/s');
      print(`    (Keycloak's sizing guide ≈ ${fmt(2 * keycloakPerVcpu.clientCredentials)}/s on 2 vCPUs, for scale)`);
    }

    // Refresh: a pool of unused refresh tokens, minted by code flows.
    if (loads.includes('refresh')) {
      const s = await serverFor('refresh');
      const run = async (label, target, client) => {
        const pool = new RefreshPool({ issuer: `${target.url}/t/${TENANT}`, client, people });
        const started = performance.now();
        await pool.fill(3 * Math.max(...connections));
        print(
          `  ${label} pool: ${pool.tokens.length} refresh tokens minted in ${fmt((performance.now() - started) / 1000, 1)} s (${MINT_TABS} browsers, each signed in once, then authorizing on its session)`,
        );
        const load = {
          url: target.url,
          serverPid: target.pid,
          request: tokenRequest(client, {
            body: '',
            setupRequest(req) {
              req.body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(pool.take())}`;
              return req;
            },
            onResponse(status, body) {
              if (status === 200) pool.giveBack(body);
            },
          }),
          verifyBody: (body) => body.includes('"access_token"') && body.includes('"refresh_token"'),
        };
        const r = await measureLoad(
          `${label}: POST /t/{slug}/token grant_type=refresh_token (each token used once)`,
          load,
          connections,
          seconds,
          print,
          // In-flight tokens are lost when a run stops: top the pool up before each run.
          { beforeRun: (c) => pool.fill(2 * c + 20) },
        );
        r.pool = { minted: pool.minted, fedBack: pool.fedBack, empty: pool.empty };
        if (pool.empty > 0) {
          print(`    !! the pool ran dry ${pool.empty} times (those requests sent a dummy token and failed)`);
        }
        print(
          `    ${label}: ${fmt(r.rps)} grants/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms; pool: ${pool.minted} minted, ${fmt(pool.fedBack)} fed back`,
        );
        const again = async () => {
          await pool.fill(2 * r.connections + 20);
          return rateOf(await runLoad({ ...load, connections: r.connections, seconds }));
        };
        return { figure: r, again };
      };
      await sideBySide('refresh', 'refresh', run, [s, webClient], valid, 'grants/s');
    }

    // Complete password sign-ins, each a fresh browser.
    if (loads.includes('sign-in')) {
      const s = await serverFor('sign-in');
      const run = async (label, target, client) => {
        const flow = { issuer: `${target.url}/t/${TENANT}`, client, redirectUri: REDIRECT_URI, scope: SCOPE };
        print(
          `  ${label}: ${signInConcurrency} concurrent flows, each a new cookie jar and its own client address: GET /auth → sign-in form → POST …/login → redirects → code → POST /token; ${USERS} users in turn`,
        );
        const warm = await signInDriver({ flow, people, concurrency: signInConcurrency, seconds: 2 });
        if (warm.failed > 0)
          print(`    !! ${warm.failed} sign-ins failed during the warm-up (first: ${warm.firstError})`);
        const before = cpuSnapshot(target.pid);
        const r = await signInDriver({ flow, people, concurrency: signInConcurrency, seconds: signInSeconds });
        r.cpu = cpuUsage(before, cpuSnapshot(target.pid));
        print(
          `    ${fmt(r.completed)} sign-ins in ${fmt(r.seconds, 1)} s: ${fmt(r.rps, 1)} sign-ins/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms, failed ${r.failed}${r.firstError ? ` (first: ${r.firstError})` : ''}`,
        );
        printCpu(r.cpu, print);
        r.perArgon2 = figures.argon2.rate > 0 ? r.rps / figures.argon2.rate : 0;
        // Where the machine's CPU went, per sign-in, beside what one hash costs on its own.
        if (r.completed > 0 && figures.argon2.rate > 0) {
          // A share of one core (%) over a rate (/s): CPU milliseconds per item.
          const msPer = (pct, rate) => (pct / 100) * (1000 / rate);
          const perSignIn = (pct) => msPer(pct, r.rps);
          const spent = perSignIn(r.cpu.serverPct + r.cpu.loadGeneratorPct + r.cpu.postgresPct);
          const hashMs = msPer(figures.argon2.cpu.loadGeneratorPct, figures.argon2.rate);
          r.cpuMs = { spent, hash: hashMs };
          print(
            `    CPU per sign-in: ${fmt(spent, 1)} ms (server ${fmt(perSignIn(r.cpu.serverPct), 1)}, load generator ${fmt(perSignIn(r.cpu.loadGeneratorPct), 1)}, PostgreSQL ${fmt(perSignIn(r.cpu.postgresPct), 1)}); one argon2id hash alone: ${fmt(hashMs, 1)} ms`,
          );
        }
        print(
          `    ${label}: ${fmt(r.rps, 1)} sign-ins/s = ${fmt(r.perArgon2, 2)} × the argon2id rate (${fmt(figures.argon2.rate, 1)} hashes/s)`,
        );
        const stepped = await signInSteps({
          flow,
          people,
          serverPid: target.pid,
          flows: STEP_FLOWS,
          concurrency: STEP_CONCURRENCY,
        });
        r.steps = stepped.steps;
        print(
          `    ${label}, CPU per request, ms (${STEP_FLOWS} sign-ins measured one step at a time, ${STEP_CONCURRENCY} at once; server = all its threads):`,
        );
        if (stepped.failed > 0) print(`    !! ${stepped.failed} of them failed (first: ${stepped.firstError})`);
        for (const step of stepped.steps) {
          print(
            `      ${step.name.padEnd(34)} server ${fmt(step.server, 2).padStart(5)} (main thread ${fmt(step.main, 2)}), load generator ${fmt(step.loadGenerator, 2)}, PostgreSQL ${fmt(step.postgres, 2)}`,
          );
        }
        const again = async () => {
          const x = await signInDriver({ flow, people, concurrency: signInConcurrency, seconds: signInSeconds });
          return x.failed === 0 ? x.rps : 0;
        };
        return { figure: r, again };
      };
      const ok = (r) => r.failed === 0 && r.completed > 0;
      await sideBySide('signIns', 'password sign-ins', run, [s, webClient], ok, 'sign-ins/s');
      print(`    (Keycloak's sizing guide ≈ ${2 * keycloakPerVcpu.passwordSignIns}/s on 2 vCPUs, for scale)`);
    }
    if (peer) {
      figures.peer.rssAfterLoadMb = rssMb(peer.pid);
      print(`  peer RSS after load: ${fmt(figures.peer.rssAfterLoadMb, 1)} MB`);
      await stopServer(peer, { graceMs: 5000 });
    }
    if (sameWork) await stopServer(sameWork, { graceMs: 5000 });

    // Another tenant's sign-in, idle and during a burst from one address to the first tenant.
    if (loads.includes('burst')) {
      const s = await serverFor('burst');
      const sApi = adminApi(s.url, apiKey);
      await sApi('POST', '/api/v1/tenants', { slug: OTHER_TENANT, displayName: 'Other Inc.' });
      const otherWeb = await sApi('POST', `/api/v1/tenants/${OTHER_TENANT}/clients`, {
        kind: 'web',
        name: 'Other web app',
        redirectUris: [REDIRECT_URI],
        firstParty: true,
      });
      const person = people[0];
      await sApi('POST', `/api/v1/tenants/${OTHER_TENANT}/users`, { email: person.email, password: person.password });
      const flowOf = (slug, client) => ({
        issuer: `${s.url}/t/${slug}`,
        client: { id: client.clientId, secret: client.clientSecret },
        redirectUri: REDIRECT_URI,
        scope: 'openid',
      });
      const r = await burstFairness({
        target: flowOf(TENANT, web),
        other: flowOf(OTHER_TENANT, otherWeb),
        person,
        rounds: burstRounds,
        serverPid: s.pid,
      });
      figures.burst = r;
      print(
        `  fairness: another tenant's sign-in (form POST → redirects → code), idle and while one address sends ${BURST} concurrent sign-in POSTs with unknown emails to tenant "${TENANT}" (${r.rounds} rounds, each from a new address)`,
      );
      print(
        `    idle: p50 ${fmt(r.idle.p50, 1)} ms (${r.idleCount} sign-ins, between the rounds); during the burst: p50 ${fmt(r.during.p50, 1)} ms, max ${fmt(r.during.max, 1)} ms; the bursts: ${r.answers[303] ?? 0} checked (303), ${r.answers[429] ?? 0} refused at once (429), ${r.answers.other ?? 0} other; all answered within ${fmt(r.burstMs.p50)} ms (p50 of rounds)`,
      );
      print(
        `    server CPU per round (burst and timed sign-in): p50 ${fmt(r.serverCpuMs.p50)} ms, of it the main thread ${fmt(r.mainCpuMs.p50)} ms; load average ${r.loadAverage.map((l) => fmt(l, 2)).join(' → ')}`,
      );
      print(
        `    → ${fmt(r.ratio, 2)} × idle (rounds: median ${fmt(r.roundRatios.p50, 2)} ×, max ${fmt(r.roundRatios.max, 2)} ×)  ${mark(r.failed === 0 && r.ratio < targets.burstSlowdown)} (target < ${targets.burstSlowdown} × idle)${r.failed ? `; ${r.failed} timed sign-ins failed (first: ${r.firstError})` : ''}`,
      );
    }

    await finishServer(server, figures, print, fmt);
    return figures;
  } finally {
    await Promise.all(servers.map((s) => stopServer(s, { graceMs: 5000 })));
  }
}

/**
 * The peer (peers/oidc-provider.mjs) with the same tenant path, a service client and a web
 * client of its own, and the same people, their passwords hashed here with the server's
 * argon2id parameters; ready, with its clients and `readyMs`.
 */
async function startPeer({ people, database, logDir, nodeArgsFor, jwtAccessTokens = false }) {
  const users = await Promise.all(
    people.map(async (p, i) => ({ id: `user-${i}`, email: p.email, hash: await hash(p.password, argon2Params) })),
  );
  const serviceClient = { id: 'peer-service', secret: randomBytes(24).toString('base64url') };
  const webClient = { id: 'peer-web', secret: randomBytes(24).toString('base64url') };
  const jwk = (type, options, alg) => ({
    ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
    alg,
    kid: `${alg.toLowerCase()}-peer`,
    use: 'sig',
  });
  const name = jwtAccessTokens ? 'peer-same-work' : 'peer';
  const peer = await spawnPeer({
    config: {
      slug: TENANT,
      cookieKey: randomBytes(32).toString('base64url'),
      users,
      ...(jwtAccessTokens
        ? {
            jwtAccessTokens,
            jwks: [jwk('ec', { namedCurve: 'P-256' }, 'ES256'), jwk('rsa', { modulusLength: 2048 }, 'RS256')],
          }
        : {}),
      clients: [
        {
          client_id: serviceClient.id,
          client_secret: serviceClient.secret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        },
        {
          client_id: webClient.id,
          client_secret: webClient.secret,
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: [REDIRECT_URI],
        },
      ],
    },
    logFile: join(logDir, `${name}-oidc-${database.dialect}.log`),
    nodeArgs: nodeArgsFor?.(name) ?? [],
  });
  const readyMs = await waitReady(peer);
  return { ...peer, serviceClient, webClient, readyMs, opaqueAccessTokens: !jwtAccessTokens };
}

/** An autocannon request to the token endpoint, the client authenticating with HTTP Basic. */
function tokenRequest(client, rest) {
  return {
    method: 'POST',
    path: `/t/${TENANT}/token`,
    headers: {
      authorization: basicAuth(client.id, client.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    ...rest,
  };
}

function printLimitCpu(cpu, print) {
  print(
    `    CPU (% of one core): bench process ${cpu.loadGeneratorPct}%, server (idle) ${cpu.serverPct}%, postgres ${cpu.postgresPct}%, other processes ${cpu.otherPct}%`,
  );
  if (cpu.otherPct > 15) print(`    !! other processes used ${cpu.otherPct}% of a core: this limit is understated`);
}

async function sanityClientCredentials(issuer, client, jwt) {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.id, client.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = await res.json();
  if (res.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`client credentials answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  // The same work: a JWT where Latchkey gives one (and the same-work peer), else opaque.
  if ((body.access_token.split('.').length === 3) !== jwt) {
    throw new Error(`client credentials gave ${jwt ? 'an opaque' : 'a JWT'} access token where the other was due`);
  }
}

/**
 * Unused refresh tokens, minted by code flows in a few "tabs" that each sign in once
 * (argon2id) and then run further authorization requests on their session cookie: no form, a
 * new code each time, a new refresh token. A tab runs one flow at a time: oidc-provider
 * renews the session id at the end of every interaction, so two flows cannot share a session.
 * Tokens come out once (`take`) and the rotated ones go back in (`giveBack`).
 */
class RefreshPool {
  tokens = [];
  minted = 0;
  fedBack = 0;
  empty = 0;
  tabs = [];

  constructor({ issuer, client, people }) {
    this.flow = { issuer, client, redirectUri: REDIRECT_URI, scope: SCOPE };
    this.people = people;
  }

  take() {
    const token = this.tokens.shift();
    if (token !== undefined) return token;
    this.empty++;
    return 'pool-ran-dry';
  }

  giveBack(body) {
    try {
      const token = JSON.parse(body).refresh_token;
      if (typeof token === 'string') {
        this.tokens.push(token);
        this.fedBack++;
      }
    } catch {
      // a body that is not JSON counts as a mismatch in the load figures
    }
  }

  async fill(atLeast) {
    let left = atLeast - this.tokens.length;
    if (left <= 0) return;
    const tab = async (i) => {
      let browser = this.tabs[i];
      if (!browser) {
        // Each tab from an address of its own: one address may not have several sign-ins waiting.
        browser = new Browser(undefined, { 'x-forwarded-for': `198.18.2.${i + 1}` });
        const person = this.people[i % this.people.length];
        const { tokens, signedIn } = await codeFlow(browser, { ...this.flow, credentials: person });
        if (!signedIn) throw new Error('the first code flow of a new browser did not show the sign-in form');
        this.tabs[i] = browser;
        this.add(tokens);
        left--;
      }
      while (left > 0) {
        left--;
        const { tokens, signedIn } = await codeFlow(browser, this.flow);
        if (signedIn) throw new Error('a signed-in browser was asked to sign in again');
        this.add(tokens);
      }
    };
    await Promise.all(Array.from({ length: MINT_TABS }, (_, i) => tab(i)));
  }

  add(tokens) {
    if (typeof tokens.refresh_token !== 'string') {
      throw new Error(`the code exchange gave no refresh token: ${JSON.stringify(tokens).slice(0, 300)}`);
    }
    this.tokens.push(tokens.refresh_token);
    this.minted++;
  }
}

/** `concurrency` loops of complete password sign-ins (a new browser each) for `seconds`. */
function signInDriver({ flow, people, concurrency, seconds }) {
  return flowDriver({ run: passwordSignIn(flow), people, concurrency, seconds });
}

/**
 * Where a sign-in's CPU goes, request by request: `flows` sign-ins (each a new browser) run one
 * step at a time, every flow's step before any flow's next, so that the CPU used during a
 * step belongs to that request. Milliseconds of CPU per request, by party.
 */
async function signInSteps({ flow, people, serverPid, flows, concurrency }) {
  const runs = Array.from({ length: flows }, (_, i) => ({
    browser: new Browser(undefined, { 'x-forwarded-for': `198.18.1.${(i % 250) + 1}` }),
    person: people[i % people.length],
    ...authorizationRequest(flow),
  }));
  const stopAt = (u) => u.href.startsWith(flow.redirectUri);
  const steps = [
    [
      'GET /auth → redirect to the form',
      async (run) => {
        run.page = await run.browser.go(run.url, { follow: false });
      },
    ],
    [
      'GET the sign-in form',
      async (run) => {
        run.page = await run.browser.go(run.page.url, { follow: false });
        expectSignInPage(run.page);
      },
    ],
    [
      'POST the form (argon2id) → redirect',
      async (run) => {
        const { email, password } = run.person;
        run.page = await run.browser.submit(run.page, { email, password }, { follow: false });
      },
    ],
    [
      'GET /auth (resume) → code',
      async (run) => {
        run.page = await run.browser.go(run.page.url, { follow: false });
        if (!stopAt(run.page.url)) throw new Error(`no redirect to the client: ${run.page.url} ${run.page.status}`);
      },
    ],
    [
      'POST /token (code)',
      async (run) => {
        await exchangeCode(flow, codeFrom(run.page.url, run.state), run.verifier);
      },
    ],
  ];
  const out = [];
  let failed = 0;
  let firstError;
  for (const [name, step] of steps) {
    // A flow that failed a step is left out of the later ones.
    const live = runs.filter((run) => !run.failed);
    const before = cpuSnapshot(serverPid);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < live.length) {
          const run = live[next++];
          try {
            await step(run);
          } catch (err) {
            run.failed = true;
            failed++;
            firstError ??= `${name}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`;
          }
        }
      }),
    );
    const after = cpuSnapshot(serverPid);
    const perRequest = (key) => (live.length ? ticksToMs(after[key] - before[key]) / live.length : 0);
    out.push({
      name,
      requests: live.length,
      server: perRequest('server'),
      main: perRequest('serverMain'),
      loadGenerator: perRequest('self'),
      postgres: perRequest('postgres'),
    });
  }
  return { steps: out, failed, firstError };
}

/** The sign-in form of a fresh browser for `flow`, ready to submit: the page and its browser. */
async function signInPage(flow) {
  const browser = new Browser();
  const page = await browser.go(authorizationRequest(flow).url);
  expectSignInPage(page);
  return { browser, page };
}

/** Submits a prepared sign-in form and follows it to the code; resolves with milliseconds taken. */
async function timedSubmit(flow, { browser, page }, person) {
  const stopAt = (u) => u.href.startsWith(flow.redirectUri);
  const started = performance.now();
  const end = await browser.submit(page, { email: person.email, password: person.password }, { stopAt });
  if (!stopAt(end.url)) throw new Error(`no code: ${end.url} ${end.status} ${end.html.slice(0, 200)}`);
  return performance.now() - started;
}

/**
 * Tenant `other`'s sign-in (its form POST, followed to the code) timed idle and in rounds: in
 * each, after two idle ones, `BURST` prepared sign-in forms of `target` are POSTed at once
 * from one address (a new one per round, so that no round meets the last one's lock) with
 * unknown emails, by a thread of their own, and the other tenant's sign-in is submitted in the
 * same instant.
 */
async function burstFairness({ target, other, person, rounds, serverPid }) {
  const quantiles = (xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), max: sorted.at(-1) ?? 0 };
  };
  let failed = 0;
  let firstError;
  const timed = async (promise) => {
    try {
      return await promise;
    } catch (err) {
      failed++;
      firstError ??= err instanceof Error ? err.message.slice(0, 300) : String(err);
      return undefined;
    }
  };
  const idle = [];
  const idleSignIns = async (n) => {
    for (let i = 0; i < n; i++) {
      const ms = await timed(timedSubmit(other, await signInPage(other), person));
      if (ms !== undefined) idle.push(ms);
    }
  };
  // Warm-up (not kept), then idle sign-ins one at a time, before the bursts and between them,
  // so that both figures see the same machine (other processes come and go).
  await idleSignIns(2);
  idle.length = 0;
  const loadAverage = [loadavg()[0]];
  const during = [];
  const burstMs = [];
  const serverCpuMs = [];
  const mainCpuMs = [];
  const answers = {};
  // The burst's sender runs in a thread of its own (lib/burst-worker.mjs).
  const sender = new Worker(new URL('../lib/burst-worker.mjs', import.meta.url), {
    workerData: { flow: target, size: BURST },
  });
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      sender.once('message', (m) => (m.type === 'error' ? reject(new Error(m.message)) : resolve(m)));
      sender.postMessage(msg);
    });
  try {
    for (let round = 0; round < rounds; round++) {
      await idleSignIns(IDLE_PER_ROUND);
      await ask({ type: 'prepare' });
      const mine = await signInPage(other);
      await new Promise((r) => setTimeout(r, 500));
      const before = cpuSnapshot(serverPid);
      // A new address per round (203.0.113.1, .2, …, then 203.0.114.x).
      const address = `203.0.${113 + Math.floor(round / 250)}.${(round % 250) + 1}`;
      const burst = ask({ type: 'fire', round, headers: { 'x-forwarded-for': address } });
      const [ms, done] = await Promise.all([timed(timedSubmit(other, mine, person)), burst]);
      const after = cpuSnapshot(serverPid);
      serverCpuMs.push(ticksToMs(after.server - before.server));
      mainCpuMs.push(ticksToMs(after.serverMain - before.serverMain));
      if (ms !== undefined) during.push(ms);
      burstMs.push(done.ms);
      for (const [k, n] of Object.entries(done.answers)) answers[k] = (answers[k] ?? 0) + n;
      // Let the checked part of the burst drain before the next round.
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await sender.terminate();
  }
  loadAverage.push(loadavg()[0]);
  const idleQ = quantiles(idle);
  const duringQ = quantiles(during);
  return {
    burst: BURST,
    rounds,
    idleCount: idle.length,
    idle: idleQ,
    during: duringQ,
    ratio: idleQ.p50 > 0 ? duringQ.p50 / idleQ.p50 : 0,
    // Each round's timed sign-in over the idle median: how far one unlucky round goes.
    roundRatios: quantiles(idleQ.p50 > 0 ? during.map((ms) => ms / idleQ.p50) : []),
    serverCpuMs: quantiles(serverCpuMs),
    mainCpuMs: quantiles(mainCpuMs),
    loadAverage,
    answers,
    burstMs: quantiles(burstMs),
    failed,
    firstError,
  };
}

/** argon2id hashes/s with `concurrency` hashes in flight (libuv threads), for `seconds`. */
async function argon2Rate(seconds, concurrency) {
  let hashes = 0;
  let busyMs = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      await hash(`correct horse battery staple ${hashes}`, argon2Params);
      busyMs += performance.now() - started;
      hashes++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  return { concurrency, hashes, seconds: elapsed, rate: hashes / elapsed, meanMs: busyMs / hashes };
}

/** ES256 signatures/s of a JWT-sized input, synchronously on this thread, for `seconds`. */
function es256Rate(seconds) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const input = Buffer.from(
    `${Buffer.from('{"alg":"ES256","typ":"at+jwt","kid":"k1"}').toString('base64url')}.${randomBytes(300).toString('base64url')}`,
  );
  let signatures = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    signatures += 100;
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { signatures, seconds: elapsed, rate: signatures / elapsed };
}

const latencies = (l) => `${fmt(l.p50, 1)} / ${fmt(l.p99, 1)} ms`;
const peerTargets = (name) =>
  Object.entries(targets.versusPeer)
    .map(([dialect, t]) => `${t[name]} (${dialect})`)
    .join(', ');

/** A summary row: Latchkey's figure and the peer's, their ratio against the dialect's target. */
function versusRow(label, name, withMark) {
  return [
    `${label}: Latchkey / peer`,
    `≥ ${peerTargets(name)} × peer`,
    (r) => {
      const ours = r[name];
      const theirs = r.peer?.[name];
      if (!ours) return 'not run';
      if (!theirs) return `${fmt(ours.rps, 1)} / – (no peer)`;
      const ratio = r.versusPeer?.[name] ?? 0;
      const ok = name === 'signIns' ? ours.failed === 0 && theirs.failed === 0 : valid(ours) && valid(theirs);
      const target = targets.versusPeer[r.dialect]?.[name] ?? Infinity;
      const same = r.versusSameWorkPeer?.[name];
      const sameText =
        same === undefined ? '' : `; same-work peer ${fmt(r.sameWorkPeer?.[name]?.rps ?? 0, 1)}, ${fmt(same, 2)} ×`;
      return withMark(
        `${fmt(ours.rps, 1)} / ${fmt(theirs.rps, 1)} (${fmt(ratio, 2)} ×${sameText})`,
        ok && ratio >= target,
      );
    },
  ];
}

/** Rows of the summary table: [label, target, figure of one dialect's result]. */
export function summaryRows(withMark) {
  const load = (r, name, f) => (r[name] ? f(r[name]) : 'not run');
  return [
    ['argon2id hashes/s (2 at a time)', 'limit', (r) => fmt(r.argon2.rate, 1)],
    ['ES256 signatures/s (1 thread)', 'limit', (r) => fmt(r.es256.rate)],
    versusRow('client credentials grants/s', 'clientCredentials', withMark),
    [
      'client credentials p50 / p99 (peer)',
      '',
      (r) =>
        load(
          r,
          'clientCredentials',
          (l) => `${latencies(l)}${r.peer?.clientCredentials ? ` (${latencies(r.peer.clientCredentials)})` : ''}`,
        ),
    ],
    versusRow('refresh grants/s', 'refresh', withMark),
    [
      'refresh p50 / p99 (peer)',
      '',
      (r) => load(r, 'refresh', (l) => `${latencies(l)}${r.peer?.refresh ? ` (${latencies(r.peer.refresh)})` : ''}`),
    ],
    versusRow('password sign-ins/s', 'signIns', withMark),
    [
      'sign-ins / argon2id rate (peer)',
      'for information',
      (r) =>
        load(
          r,
          'signIns',
          (l) => `${fmt(l.perArgon2, 2)} ×${r.peer?.signIns ? ` (${fmt(r.peer.signIns.perArgon2, 2)} ×)` : ''}`,
        ),
    ],
    [
      'password sign-in p50 / p99 (peer)',
      '',
      (r) =>
        load(
          r,
          'signIns',
          (l) =>
            `${fmt(l.p50)} / ${fmt(l.p99)} ms${r.peer?.signIns ? ` (${fmt(r.peer.signIns.p50)} / ${fmt(r.peer.signIns.p99)} ms)` : ''}`,
        ),
    ],
    [
      `other tenant's sign-in: idle / during a burst of ${BURST}`,
      `< ${targets.burstSlowdown} × idle`,
      (r) =>
        load(r, 'burst', (b) =>
          withMark(
            `${fmt(b.idle.p50, 1)} / ${fmt(b.during.p50, 1)} ms (${fmt(b.ratio, 2)} ×, max ${fmt(b.roundRatios.max, 2)} ×)`,
            b.failed === 0 && b.ratio < targets.burstSlowdown,
          ),
        ),
    ],
    [
      'failed (cc, refresh, sign-ins)',
      '0',
      (r) => {
        const n = [
          r.clientCredentials ? failures(r.clientCredentials) : 0,
          r.refresh ? failures(r.refresh) : 0,
          r.signIns ? r.signIns.failed : 0,
        ];
        return withMark(
          n.join(', '),
          n.every((x) => x === 0),
        );
      },
    ],
    [
      'connections (cc, refresh), flows',
      '',
      (r) =>
        [r.clientCredentials?.connections ?? '–', r.refresh?.connections ?? '–', r.signIns?.concurrency ?? '–'].join(
          ', ',
        ),
    ],
    [
      'server CPU / its main thread (cc; refresh; sign-ins)',
      '',
      (r) =>
        [r.clientCredentials?.cpu, r.refresh?.cpu, r.signIns?.cpu]
          .map((c) => (c ? `${c.serverPct}% / ${c.serverMainThreadPct}%` : '–'))
          .join('; '),
    ],
    [
      'CPU of other procs (argon2, cc, refresh, sign-ins)',
      '',
      (r) =>
        [r.argon2?.cpu, r.clientCredentials?.cpu, r.refresh?.cpu, r.signIns?.cpu]
          .map((c) => (c ? `${c.otherPct}%` : '–'))
          .join(', '),
    ],
  ];
}
