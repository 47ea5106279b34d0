/**
 * Scenario "federation" (issue 13): sign-in through an upstream identity provider, beside
 * password sign-ins in the same run.
 *
 * The upstream is the oidc scenario's peer (peers/oidc-provider.mjs: a bare oidc-provider 9 in
 * memory, a labelled form, argon2id at its POST) on a port of its own, registered in a
 * Latchkey tenant as an `oidc` identity provider (discovery, PKCE, state, nonce, client secret).
 * One complete federated sign-in, each a new browser: GET /auth → Latchkey's sign-in page →
 * the provider's button → the upstream's /auth and sign-in form → POST (argon2id there) →
 * the upstream's redirects → Latchkey's callback (code grant, ID token checked) → the
 * interaction ends → code → POST /token. Every person signed in once before the clock starts
 * (a first sign-in makes the account), so that what is timed is the usual sign-in of a
 * returning person. The password sign-ins are the same client's, on the same server, with
 * the same concurrency: one argon2id each, as the federated flow has one at the upstream.
 * For information (the issue sets no target): federated flows/s, password sign-ins/s, ratio.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import {
  authorizationRequest,
  Browser,
  codeFrom,
  exchangeCode,
  expectSignInPage,
  flowDriver,
  passwordSignIn,
} from '../lib/browser.mjs';
import { adminApi, logTail, spawnPeer, spawnServer, stopServer, waitReady } from '../lib/server.mjs';

const TENANT = 'fedbench';
const UPSTREAM = 'upstream';
const IDP = 'corp';
const REDIRECT_URI = 'https://app.bench.test/callback';
const PEOPLE = 40;
const fmt = (n, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** The server's argon2id parameters (packages/server/src/passwords/hash.ts); 2 = Argon2id. */
const argon2Params = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

const decode = (s) => s.replace(/&amp;/g, '&');

/**
 * One federated sign-in of `person` in `browser`; `create` answers the first sign-in's
 * "create an account" page. Throws on any deviation.
 */
async function federatedFlow(browser, flow, person, { create = false } = {}) {
  const { url, verifier, state } = authorizationRequest(flow);
  const stopAt = (u) => u.href.startsWith(flow.redirectUri);
  let page = await browser.go(url, { stopAt });
  expectSignInPage(page);
  const button = new RegExp(`href="([^"]*/federated/${IDP})"`).exec(page.html);
  if (!button?.[1]) throw new Error(`no "${IDP}" button on the sign-in page`);
  page = await browser.go(new URL(decode(button[1]), page.url), { stopAt });
  if (!page.url.pathname.startsWith(`/t/${UPSTREAM}/`)) {
    throw new Error(`the button did not lead upstream: ${page.url} ${page.status} ${page.html.slice(0, 200)}`);
  }
  page = await browser.submit(page, { email: person.email, password: person.password }, { stopAt });
  if (create && !stopAt(page.url)) {
    const form = /<form[^>]*action="([^"]*\/federation\/create)"/.exec(page.html);
    if (!form) throw new Error(`no "create an account" form after the first upstream sign-in: ${page.url}`);
    page = await browser.submit({ ...page, html: page.html.slice(page.html.indexOf(form[0])) }, {}, { stopAt });
  }
  if (!stopAt(page.url)) {
    throw new Error(
      `the federated sign-in did not come back to the client: ${page.url} ${page.status} ${page.html.slice(0, 300)}`,
    );
  }
  return exchangeCode(flow, codeFrom(page.url, state), verifier);
}

export async function federationScenario({ database, seconds, concurrency, logDir, print }) {
  const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
  const server = await spawnServer({
    databaseUrl: database.url,
    dataDir: database.dataDir,
    apiKey,
    logFile: join(logDir, `server-federation-${database.dialect}.log`),
    env: { FEDERATION_ALLOW_HTTP_ISSUERS: 'true', TRUST_PROXY_HOPS: '1' },
  });
  let upstream;
  const figures = { concurrency };
  try {
    await waitReady(server);
    const api = adminApi(server.url, apiKey);
    await api('POST', '/api/v1/tenants', {
      slug: TENANT,
      displayName: 'Federation bench',
      settings: { selfRegistration: true },
    });
    const web = await api('POST', `/api/v1/tenants/${TENANT}/clients`, {
      kind: 'web',
      name: 'Bench web app',
      redirectUris: [REDIRECT_URI],
      firstParty: true,
    });
    const people = await Promise.all(
      Array.from({ length: PEOPLE }, async (_, i) => {
        const password = `upstream password ${i} ${randomBytes(4).toString('hex')}`;
        return { id: `up-${i}`, email: `person${i}@corp.bench`, password, hash: await hash(password, argon2Params) };
      }),
    );
    const upstreamSecret = randomBytes(24).toString('base64url');
    upstream = await spawnPeer({
      config: {
        slug: UPSTREAM,
        cookieKey: randomBytes(24).toString('base64url'),
        clients: [
          {
            client_id: 'latchkey',
            client_secret: upstreamSecret,
            // Latchkey names its callback by its PUBLIC_URL (http://localhost:{port} here).
            redirect_uris: [server.url, `http://localhost:${server.port}`].map(
              (origin) => `${origin}/t/${TENANT}/federation/${IDP}/callback`,
            ),
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        users: people.map(({ id, email, hash }) => ({ id, email, hash })),
      },
      logFile: join(logDir, `upstream-federation-${database.dialect}.log`),
    });
    await waitReady(upstream);
    await api('POST', `/api/v1/tenants/${TENANT}/identity-providers`, {
      slug: IDP,
      kind: 'oidc',
      displayName: 'Corp',
      issuer: `${upstream.url}/t/${UPSTREAM}`,
      clientId: 'latchkey',
      clientSecret: upstreamSecret,
      allowSignUp: true,
    });
    const flow = {
      issuer: `${server.url}/t/${TENANT}`,
      client: { id: web.clientId, secret: web.clientSecret },
      redirectUri: REDIRECT_URI,
      scope: 'openid',
    };
    // Each person's first sign-in makes their account (and an argon2id password for the
    // password sign-ins of the same people, set through the API).
    for (const [i, p] of people.entries()) {
      await federatedFlow(new Browser(undefined, { 'x-forwarded-for': `198.18.1.${i + 1}` }), flow, p, {
        create: true,
      });
    }
    const users = await api('GET', `/api/v1/tenants/${TENANT}/users?limit=200`);
    if (users.items.length !== PEOPLE) throw new Error(`expected ${PEOPLE} users, found ${users.items.length}`);
    for (const u of users.items) {
      const p = people.find((x) => x.email === u.email);
      await api('POST', `/api/v1/tenants/${TENANT}/users/${u.id}/password`, { password: p.password });
    }

    const federated = (browser, person) => federatedFlow(browser, flow, person);
    const password = passwordSignIn(flow);
    await flowDriver({ run: federated, people, concurrency, seconds: 2 });
    const fed = await flowDriver({ run: federated, people, concurrency, seconds });
    await flowDriver({ run: password, people, concurrency, seconds: 2 });
    const pwd = await flowDriver({ run: password, people, concurrency, seconds });
    figures.federated = fed;
    figures.password = pwd;
    figures.ratio = fed.rps / pwd.rps;
    const line = (label, r) =>
      `    ${label}: ${fmt(r.rps, 1)}/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, failed ${r.failed}${r.firstError ? ` (first: ${r.firstError})` : ''}`;
    print(
      `  ${concurrency} concurrent flows, each a new browser; the upstream (bare oidc-provider, argon2id at its form) on the same machine`,
    );
    print(line('federated sign-ins (Latchkey → upstream form → callback → code → token)', fed));
    print(line('password sign-ins (the same people and client)', pwd));
    print(`    federated / password: ${fmt(figures.ratio, 2)} (for information)`);
  } catch (err) {
    print(`  server log:\n${logTail(server)}`);
    throw err;
  } finally {
    if (upstream) await stopServer(upstream);
    figures.shutdown = await stopServer(server);
  }
  return figures;
}

export function summaryRows() {
  return [
    [
      'federated sign-ins/s (through a stand-in upstream)',
      'for information',
      (r) => `${fmt(r.federated?.rps, 1)} (password ${fmt(r.password?.rps, 1)}; ratio ${fmt(r.ratio, 2)})`,
    ],
  ];
}
