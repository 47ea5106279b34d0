/**
 * Just enough of a browser to drive the sign-in pages over HTTP: a cookie jar (name + path,
 * as the server sets them), manual redirects, and the sign-in form's hidden fields. The
 * benchmark's own copy of packages/server/test/helpers/browser.ts, in plain JavaScript.
 *
 * Requests go through node:http and one shared keep-alive agent rather than global fetch:
 * the load generator runs on the machine it measures, and undici's fetch costs several times
 * more CPU per request. Connections are shared between browsers; the cookie jar, not the
 * connection, is what makes a browser session.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

// Enough sockets for the oidc scenario's burst of 200 sign-in POSTs to be sent all at once.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One HTTP request, no redirects followed. Resolves once the whole body has been read, so that
 * the socket goes back to the agent, with `{ status, headers, body }`: node's lower-cased
 * `headers` and the body as a string ('' for a redirect: drained unread).
 */
function request(url, { method = 'GET', headers = {}, body }) {
  if (url.protocol !== 'http:') return Promise.reject(new Error(`only http: is supported, not ${url.href}`));
  const outgoing = { accept: '*/*', 'user-agent': 'node', ...headers };
  if (body !== undefined) outgoing['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        method,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 80,
        path: `${url.pathname}${url.search}`,
        headers: outgoing,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const skip = status >= 300 && status < 400 && res.headers.location !== undefined;
        const chunks = [];
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error(`the response from ${url.href} was cut short`));
        });
        if (skip) res.resume();
        else res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status, headers: res.headers, body: skip ? '' : Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export class CookieJar {
  cookies = new Map();

  /** Takes the Set-Cookie lines of a node:http response. */
  store(res) {
    for (const line of res.headers['set-cookie'] ?? []) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const path =
        attrs
          .map((a) => a.trim())
          .find((a) => a.toLowerCase().startsWith('path='))
          ?.slice(5) ?? '/';
      const expired =
        attrs.some((a) => /^max-age=0$/i.test(a.trim())) || attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      const key = `${name};${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const out = [];
    for (const c of this.cookies.values()) {
      const prefix = c.path.endsWith('/') ? c.path : `${c.path}/`;
      if (url.pathname === c.path || url.pathname.startsWith(prefix)) out.push(`${c.name}=${c.value}`);
    }
    return out.join('; ');
  }

  /** A second jar holding the same cookies: another tab of the same signed-in browser. */
  clone() {
    const copy = new CookieJar();
    for (const [k, v] of this.cookies) copy.cookies.set(k, { ...v });
    return copy;
  }
}

export class Browser {
  /** `headers` go with every request of this browser (`X-Forwarded-For`: its own client address). */
  constructor(jar = new CookieJar(), headers = {}) {
    this.jar = jar;
    this.headers = headers;
  }

  /**
   * GET (or POST a form) and follow redirects until an answer that is not a redirect, or a
   * URL `stopAt` accepts (the client's redirect URI: never fetched). Returns the last URL,
   * its status (0 when stopped) and body. With `follow: false`, one request only: a redirect
   * comes back as its target URL with status 0, unfetched. `headers` go with every request
   * (`X-Forwarded-For`: a client address, for a server that trusts one proxy hop).
   */
  async go(start, { method = 'GET', form, stopAt, follow = true, headers: extra = {} } = {}) {
    let url = new URL(start);
    let body = form ? new URLSearchParams(form).toString() : undefined;
    for (let hops = 0; hops < 20; hops++) {
      if (stopAt?.(url)) return { url, status: 0, html: '' };
      const headers = { ...this.headers, ...extra };
      const cookie = this.jar.header(url);
      if (cookie) headers.cookie = cookie;
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await request(url, { method, headers, body });
      this.jar.store(res);
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url);
        if (!follow) return { url, status: 0, html: '' };
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url, status: res.status, html: res.body };
    }
    throw new Error(`too many redirects from ${start}`);
  }

  /** Submits the first form on `page` with its hidden fields plus `fields` (and `headers` on every request). */
  submit(page, fields, { stopAt, follow, headers } = {}) {
    const { url, form } = formOf(page, fields);
    return this.go(url, { method: 'POST', form, stopAt, follow, headers });
  }

  /**
   * The bytes of that submission as one HTTP/1.1 request on a connection of its own (closed
   * after the answer), with this browser's cookies and `headers`: for a sender that must cost
   * next to nothing per request (lib/burst-worker.mjs).
   */
  rawSubmission(page, fields, headers = {}) {
    const { url, form } = formOf(page, fields);
    const body = new URLSearchParams(form).toString();
    const all = {
      host: url.host,
      ...this.headers,
      ...headers,
      cookie: this.jar.header(url),
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    const head = Object.entries(all)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    return Buffer.from(`POST ${url.pathname}${url.search} HTTP/1.1\r\n${head}\r\n${body}`);
  }
}

/** The first form on `page`: where it goes, and its hidden fields plus `fields`. */
function formOf(page, fields) {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(page.html);
  if (!form?.[1]) throw new Error(`no form on ${page.url} (${page.status}): ${page.html.slice(0, 300)}`);
  const hidden = {};
  for (const m of (form[2] ?? '').matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    hidden[m[1]] = decodeEntities(m[2] ?? '');
  }
  return { url: new URL(decodeEntities(form[1]), page.url), form: { ...hidden, ...fields } };
}

function decodeEntities(s) {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** `Authorization` header value for HTTP Basic client authentication (RFC 6749 2.3.1). */
export function basicAuth(id, secret) {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/**
 * An authorization request of a confidential web client with PKCE (S256): its URL, and the
 * verifier and state that `exchangeCode` and the redirect check need.
 */
export function authorizationRequest({ issuer, client, redirectUri, scope }) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: client.id,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    prompt: 'consent',
    state,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url, verifier, state };
}

/** The code from the redirect back to the client; throws when it is missing or the state differs. */
export function codeFrom(url, state) {
  const code = url.searchParams.get('code');
  if (!code || url.searchParams.get('state') !== state)
    throw new Error(`no code or wrong state in the redirect: ${url}`);
  return code;
}

/** The code exchanged at the token endpoint (HTTP Basic); resolves with the token response. */
export async function exchangeCode({ issuer, client, redirectUri }, code, verifier) {
  const res = await request(new URL(`${issuer}/token`), {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.id, client.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  const tokens = JSON.parse(res.body);
  if (res.status !== 200 || !tokens.access_token) {
    throw new Error(`code exchange answered ${res.status}: ${JSON.stringify(tokens).slice(0, 300)}`);
  }
  return tokens;
}

/** Throws unless `page` is the sign-in page. */
export function expectSignInPage(page) {
  if (page.status !== 200 || !page.html.includes('Sign in')) {
    throw new Error(
      `expected the sign-in page at ${page.url}, got ${page.status}: ${(/role="alert">([^<]*)/.exec(page.html)?.[1] ?? page.html).slice(0, 300)}`,
    );
  }
}

/**
 * One authorization code flow of a confidential web client: authorization request with PKCE
 * (S256), the sign-in form when the browser has no session (then `credentials` are needed),
 * the redirect back, and the code exchanged at the token endpoint. Throws on any deviation.
 */
export async function codeFlow(browser, flow) {
  const { credentials, redirectUri } = flow;
  const { url, verifier, state } = authorizationRequest(flow);
  const stopAt = (u) => u.href.startsWith(redirectUri);
  let page = await browser.go(url, { stopAt });
  let signedIn = false;
  if (!stopAt(page.url)) {
    expectSignInPage(page);
    if (!credentials) throw new Error('the browser has no session and no credentials were given');
    page = await browser.submit(page, { email: credentials.email, password: credentials.password }, { stopAt });
    signedIn = true;
    if (!stopAt(page.url)) {
      throw new Error(`sign-in did not come back to the client: ${page.url} ${page.status} ${page.html.slice(0, 300)}`);
    }
  }
  const tokens = await exchangeCode(flow, codeFrom(page.url, state), verifier);
  return { tokens, signedIn };
}

const quantileOf = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;

/**
 * `concurrency` loops of `run(browser, person)` (a new browser each time, each loop from a
 * client address of its own: one address may not hold every core) for `seconds`; the people
 * in turn. Completed flows/s and their latency.
 */
export async function flowDriver({ run, people, concurrency, seconds }) {
  const durations = [];
  let failed = 0;
  let firstError;
  let next = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async (_, i) => {
    const headers = { 'x-forwarded-for': `198.18.0.${i + 1}` };
    while (performance.now() < end) {
      const person = people[next++ % people.length];
      const started = performance.now();
      try {
        await run(new Browser(undefined, headers), person);
        durations.push(performance.now() - started);
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message.slice(0, 300) : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const sorted = durations.sort((a, b) => a - b);
  return {
    concurrency,
    seconds: elapsed,
    completed: sorted.length,
    failed,
    firstError,
    rps: sorted.length / elapsed,
    p50: quantileOf(sorted, 0.5),
    p99: quantileOf(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  };
}

/** `flowDriver`'s run for complete password sign-ins of `flow`'s client (codeFlow with the person's credentials). */
export const passwordSignIn = (flow) => async (browser, person) => {
  const { signedIn } = await codeFlow(browser, { ...flow, credentials: person });
  if (!signedIn) throw new Error('a new browser got a code without signing in');
};
