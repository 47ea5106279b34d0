#!/usr/bin/env node
// The deploy stage's proof that a cut-over loses nothing (.ci/deploy): what a user holds is
// made through the old node and used through the new one. Built on the smoke suite's HTTP,
// OAuth and browser sign-in code (packages/server/dist/smoke, so `tsc -b packages/server` first).
//   node .ci/deploy-session.mjs prepare <url> <state file>   a tenant, a web application, a
//        user, a password sign-in (browser session cookie) and its refresh token
//   node .ci/deploy-session.mjs use <url> <state file>       the session still signs the user in
//        without a password (prompt=none gives a code), and the refresh token is redeemed (the
//        rotated one is kept for the next `use`)
//   node .ci/deploy-session.mjs cleanup <url> <state file>   deletes the tenant
// The system API key comes from LATCHKEY_SMOKE_API_KEY. Nothing secret is printed.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { CookieJar, Http } from '../packages/server/dist/smoke/http.js';
import { discover, field, tokenRequest } from '../packages/server/dist/smoke/oauth.js';
import { BrowserSignIn } from '../packages/server/dist/smoke/sign-in.js';

const [command, url, stateFile] = process.argv.slice(2);
const apiKey = process.env.LATCHKEY_SMOKE_API_KEY;
if (!['prepare', 'use', 'cleanup'].includes(command) || !url || !stateFile || !apiKey) {
  process.stderr.write(
    'usage: LATCHKEY_SMOKE_API_KEY=… node .ci/deploy-session.mjs prepare|use|cleanup <url> <state file>\n',
  );
  process.exit(2);
}
const base = url.replace(/\/+$/, '');
const http = new Http(20_000, new AbortController().signal);
const redirectUri = 'http://127.0.0.1:9/deploy/callback';

async function api(method, path, expected, body) {
  return http.json(`${base}/api/v1${path}`, expected, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The jar's cookies, to keep between runs (a browser keeps them between page loads). */
function saveJar(jar) {
  return [...jar.cookies.values()];
}
function loadJar(cookies) {
  const jar = new CookieJar();
  for (const c of cookies) jar.cookies.set(`${c.name};${c.path}`, c);
  return jar;
}

async function prepare() {
  const slug = `deploy-${randomBytes(5).toString('hex')}`;
  await api('POST', '/tenants', 201, { slug, displayName: 'Latchkey deploy test' });
  const issuer = `${base}/t/${slug}`;
  const email = 'deploy-user@example.com';
  const password = randomBytes(24).toString('base64url');
  await api('POST', `/tenants/${slug}/users`, 201, { email, password, emailVerified: true });
  const web = await api('POST', `/tenants/${slug}/clients`, 201, {
    kind: 'web',
    name: 'Deploy test app',
    redirectUris: [redirectUri],
  });
  const client = { id: field(web, 'clientId'), secret: field(web, 'clientSecret') };
  const doc = await discover(http, issuer);
  const browser = new BrowserSignIn(http, issuer, client.id, redirectUri);
  const page = await browser.open(doc.authorization_endpoint);
  const cb = await browser.signIn(page, email, password);
  const tokens = await tokenRequest(http, doc.token_endpoint, client, {
    grant_type: 'authorization_code',
    code: cb.code,
    redirect_uri: redirectUri,
    code_verifier: cb.verifier,
  });
  // BrowserSignIn keeps its cookies to itself; the session cookie is what a browser would keep.
  const state = { slug, client, refreshToken: field(tokens, 'refresh_token'), cookies: saveJar(browser.jar) };
  writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
  process.stdout.write(`prepared: tenant ${slug}, a signed-in browser session and a refresh token\n`);
}

/** An authorization request with prompt=none and the browser's cookies: a code iff the session lives. */
async function sessionCode(state, doc) {
  const jar = loadJar(state.cookies);
  let target = new URL(doc.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: state.client.id,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    prompt: 'none',
    state: randomBytes(16).toString('base64url'),
  })) {
    target.searchParams.set(k, v);
  }
  for (let hops = 0; hops < 10; hops++) {
    const cookie = jar.header(target);
    const answer = await http.request(target, { headers: cookie ? { cookie } : {} });
    jar.store(answer.headers);
    const location = answer.headers.get('location');
    if (answer.status < 300 || answer.status >= 400 || !location) {
      throw new Error(`prompt=none: ${answer.status} at ${target.origin}${target.pathname}, no redirect`);
    }
    const next = new URL(location, target);
    if (`${next.origin}${next.pathname}` === redirectUri) {
      if (next.searchParams.get('code')) return;
      throw new Error(`prompt=none: the session is gone (${next.searchParams.get('error') ?? 'no code'})`);
    }
    target = next;
  }
  throw new Error('prompt=none: too many redirects');
}

async function use() {
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  const doc = await discover(http, `${base}/t/${state.slug}`);
  await sessionCode(state, doc);
  const answer = await tokenRequest(http, doc.token_endpoint, state.client, {
    grant_type: 'refresh_token',
    refresh_token: state.refreshToken,
  });
  field(answer, 'access_token');
  state.refreshToken = field(answer, 'refresh_token');
  writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
  process.stdout.write('used: the browser session signed in without a password; the refresh token was redeemed\n');
}

async function cleanup() {
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  await api('DELETE', `/tenants/${state.slug}`, 204);
  process.stdout.write(`cleaned up: tenant ${state.slug} deleted\n`);
}

try {
  await { prepare, use, cleanup }[command]();
} catch (err) {
  process.stderr.write(`deploy-session ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
