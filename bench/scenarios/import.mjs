/**
 * Scenario "import" (issue 13): moving users in.
 *
 *   import     100,000 users with bcrypt hashes (cost 10; one hash shared by the file's users,
 *              as an import never hashes, but 20 of them with hashes of their own passwords)
 *              uploaded as JSON lines: users/s from the request's start until the job is done.
 *              Target ≥ 5,000/s on SQLite and on PostgreSQL.
 *   first sign-in of an imported bcrypt user (authorize → form POST → code): one bcryptjs verify
 *              plus one argon2id hash, beside a sign-in of an argon2id user (the same users'
 *              second sign-in) in the same run; medians of 20 each. For information.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Browser, codeFlow } from '../lib/browser.mjs';
import { mark } from '../lib/load.mjs';
import { adminApi, logTail, spawnServer, stopServer, waitReady } from '../lib/server.mjs';

export const targets = { usersPerSecond: 5000 };

const TENANT = 'bench';
const REDIRECT_URI = 'https://app.bench.test/callback';
const SIGN_INS = 20;
const fmt = (n, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function importScenario({ database, users = 100_000, logDir, print }) {
  const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
  const server = await spawnServer({
    databaseUrl: database.url,
    dataDir: database.dataDir,
    apiKey,
    logFile: join(logDir, `server-import-${database.dialect}.log`),
  });
  const figures = { users };
  try {
    await waitReady(server);
    const api = adminApi(server.url, apiKey);
    await api('POST', '/api/v1/tenants', { slug: TENANT, displayName: 'Bench' });
    const web = await api('POST', `/api/v1/tenants/${TENANT}/clients`, {
      kind: 'web',
      name: 'Bench web app',
      redirectUris: [REDIRECT_URI],
      firstParty: true,
    });
    const shared = bcrypt.hashSync('a shared bench password', 10);
    const people = Array.from({ length: SIGN_INS }, (_, i) => ({
      email: `signin${i}@import.bench`,
      password: `imported password ${i} ${randomBytes(4).toString('hex')}`,
    }));
    const own = people.map((p) => bcrypt.hashSync(p.password, 10));
    const lines = [];
    for (let i = 0; i < users; i++) {
      const person = i < SIGN_INS ? people[i] : undefined;
      lines.push(
        JSON.stringify({
          email: person?.email ?? `user${i}@import.bench`,
          emailVerified: true,
          displayName: `Imported user ${i}`,
          attributes: { source: 'bench', n: i },
          passwordHash: person ? own[i] : shared,
        }),
      );
    }
    const body = `${lines.join('\n')}\n`;
    print(`  file: ${fmt(users)} lines, ${fmt(Buffer.byteLength(body) / 1e6, 1)} MB, bcrypt cost 10`);

    const t0 = performance.now();
    const res = await fetch(`${server.url}/api/v1/tenants/${TENANT}/users/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    const accepted = await res.json();
    if (res.status !== 202) throw new Error(`the import answered ${res.status}: ${JSON.stringify(accepted)}`);
    const uploaded = performance.now();
    let job = accepted;
    while (job.status !== 'done' && job.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 100));
      job = await api('GET', `/api/v1/tenants/${TENANT}/users/imports/${accepted.id}`);
    }
    const done = performance.now();
    if (job.status !== 'done' || job.created !== users)
      throw new Error(`the import ended as ${JSON.stringify(job).slice(0, 300)}`);
    figures.uploadMs = uploaded - t0;
    figures.totalMs = done - t0;
    figures.usersPerSecond = users / (figures.totalMs / 1000);
    print(
      `  import: upload stored in ${fmt(figures.uploadMs / 1000, 1)} s, all ${fmt(users)} users created in ${fmt(figures.totalMs / 1000, 1)} s: ${fmt(figures.usersPerSecond)} users/s ${mark(figures.usersPerSecond >= targets.usersPerSecond)} (target ≥ ${fmt(targets.usersPerSecond)})`,
    );

    // First sign-ins (bcrypt verify + argon2id rehash), then the same users again (argon2id).
    const flowOf = (person) => ({
      issuer: `${server.url}/t/${TENANT}`,
      client: { id: web.clientId, secret: web.clientSecret },
      redirectUri: REDIRECT_URI,
      scope: 'openid',
      credentials: person,
    });
    const timed = async (person) => {
      const start = performance.now();
      const { signedIn } = await codeFlow(new Browser(), flowOf(person));
      if (!signedIn) throw new Error('no sign-in');
      return performance.now() - start;
    };
    const first = [];
    for (const p of people) first.push(await timed(p));
    const again = [];
    for (const p of people) again.push(await timed(p));
    figures.firstSignInMs = median(first);
    figures.argon2SignInMs = median(again);
    print(
      `  first sign-in of an imported bcrypt user (verify + argon2id rehash): ${fmt(figures.firstSignInMs, 1)} ms; the same users' next sign-in (argon2id): ${fmt(figures.argon2SignInMs, 1)} ms (medians of ${SIGN_INS}; for information)`,
    );
  } catch (err) {
    print(`  server log:\n${logTail(server)}`);
    throw err;
  } finally {
    figures.shutdown = await stopServer(server);
  }
  return figures;
}

export function summaryRows(withMark) {
  return [
    [
      'import of 100,000 bcrypt users: users/s',
      `≥ ${fmt(targets.usersPerSecond)}`,
      (r) =>
        withMark(
          `${fmt(r.usersPerSecond)} (upload ${fmt(r.uploadMs / 1000, 1)} s)`,
          r.usersPerSecond >= targets.usersPerSecond,
        ),
    ],
    [
      '  first sign-in, imported bcrypt / argon2id',
      'for information',
      (r) => `${fmt(r.firstSignInMs, 1)} / ${fmt(r.argon2SignInMs, 1)} ms`,
    ],
  ];
}
