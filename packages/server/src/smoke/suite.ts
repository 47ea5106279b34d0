/**
 * The smoke suite's steps, in order: the deployment's health, the system tenant's issuer,
 * then in a throwaway tenant an application, its client-credentials token, a user, a web
 * application and a browser's password sign-in, refresh rotation; the admin console, the
 * security headers; and, whatever happened before, the tenant's deletion.
 */
import { randomBytes } from 'node:crypto';
import { apiHeaderProblems, pageHeaderProblems } from './headers.js';
import { type Answer, Http, NoAnswer, refusal, where } from './http.js';
import {
  type ClientCredentials,
  discover,
  fetchKeys,
  field,
  refusedTokenRequest,
  tokenRequest,
  verifyJwt,
} from './oauth.js';
import type { SmokeOptions } from './options.js';
import { check, type Report, StepFailure } from './report.js';
import { BrowserSignIn } from './sign-in.js';

/** The web application's redirect URI: never fetched (the code is read from the Location header). */
const redirectUri = 'http://127.0.0.1:9/smoke/callback';

type AdminApi = (method: string, path: string, expected: number, body?: unknown) => Promise<Record<string, unknown>>;

export async function runSuite(options: SmokeOptions, report: Report, interrupted: AbortSignal): Promise<void> {
  const base = options.url;
  const http = new Http(options.timeoutMs, interrupted);
  const adminApi =
    (client: Http): AdminApi =>
    (method, path, expected, body) =>
      client.json(`${base}/api/v1${path}`, expected, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
  const api = adminApi(http);
  report.print(`latchkey smoke suite against ${base}\n`);

  await report.step('health (/healthz)', async (ctx) => {
    const body = await http.json(`${base}/healthz`, 200);
    check(body.status === 'ok', `/healthz says ${JSON.stringify(body.status)}, not "ok"`);
    ctx.note(typeof body.version === 'string' ? `version ${body.version}` : 'no version reported');
  });
  await report.step('readiness (/readyz)', async () => {
    const body = await http.json(`${base}/readyz`, 200);
    check(body.status === 'ok', `/readyz says ${JSON.stringify(body.status)}, not "ok"`);
  });
  const system = await report.step('system tenant discovery', async (ctx) => {
    const doc = await discover(http, `${base}/t/system`);
    ctx.note(`issuer ${doc.issuer}`);
    return doc;
  });
  await report.after([system], 'system tenant JWKS', async ([doc], ctx) => {
    ctx.note((await fetchKeys(http, doc.jwks_uri)).summary);
  });

  const slug = `smoke-${randomBytes(5).toString('hex')}`;
  /** Whether the tenant may exist: its creation was asked and not clearly refused. */
  let mayExist = false;
  try {
    const tenant = await report.step(`create tenant ${slug}`, async () => {
      mayExist = true;
      const answer = await http
        .request(`${base}/api/v1/tenants`, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ slug, displayName: 'Latchkey smoke test' }),
        })
        .catch((err: unknown) => {
          if (err instanceof NoAnswer) mayExist = err.mayHaveArrived;
          throw err;
        });
      if (answer.status !== 201) {
        mayExist = answer.status >= 500;
        const hint =
          answer.status === 401
            ? ' (is the API key right?)'
            : answer.status === 403
              ? ' (the key needs system:admin)'
              : '';
        throw new StepFailure(`${refusal('POST', answer, 201)}${hint}`);
      }
      return slug;
    });
    await inTenant(tenant, { base, http, api, apiKey: options.apiKey, report });
  } finally {
    await cleanUp(report, slug, mayExist, adminApi(new Http(options.timeoutMs, new AbortController().signal)));
  }
}

/** The steps in the throwaway tenant (skipped, each with its line, when it was not made). */
async function inTenant(
  tenant: string | undefined,
  { base, http, api, apiKey, report }: { base: string; http: Http; api: AdminApi; apiKey: string; report: Report },
): Promise<void> {
  const https = base.startsWith('https:');
  const issuer = `${base}/t/${tenant}`;
  const oidc = await report.after([tenant], 'tenant discovery and JWKS', async (_, ctx) => {
    const doc = await discover(http, issuer);
    const { keys, summary } = await fetchKeys(http, doc.jwks_uri);
    ctx.note(summary);
    return { doc, keys };
  });

  const service = await report.after([tenant], 'service application', async () => {
    const body = await api('POST', `/tenants/${tenant}/clients`, 201, { kind: 'service', name: 'Smoke service' });
    return { id: field(body, 'clientId'), secret: field(body, 'clientSecret') } satisfies ClientCredentials;
  });
  await report.after([oidc, service], 'client-credentials token', async ([{ doc, keys }, client], ctx) => {
    const tokens = await tokenRequest(http, doc.token_endpoint, client, { grant_type: 'client_credentials' });
    const accessToken = field(tokens, 'access_token', 'the token response');
    const { payload, alg } = await verifyJwt(accessToken, keys, { issuer, typ: 'at+jwt' }, 'the access token');
    check(payload.client_id === client.id, 'the access token names another client');
    ctx.note(`JWT ${alg} verified against the tenant JWKS`);
  });

  const email = 'smoke-user@example.com';
  const password = randomBytes(24).toString('base64url');
  const user = await report.after([tenant], 'user with a password', async () => {
    const body = await api('POST', `/tenants/${tenant}/users`, 201, { email, password, emailVerified: true });
    return field(body, 'id');
  });
  const web = await report.after([tenant], 'web application', async () => {
    const body = await api('POST', `/tenants/${tenant}/clients`, 201, {
      kind: 'web',
      name: 'Smoke web app',
      redirectUris: [redirectUri],
    });
    return { id: field(body, 'clientId'), secret: field(body, 'clientSecret') } satisfies ClientCredentials;
  });

  const browser = web && new BrowserSignIn(http, issuer, web.id, redirectUri);
  const signInPage = await report.after([oidc, browser], 'sign-in page (PKCE S256)', async ([{ doc }, b], ctx) => {
    const page = await b.open(doc.authorization_endpoint);
    check(/^text\/html\b/i.test(page.headers.get('content-type') ?? ''), 'the sign-in page is not HTML');
    ctx.note(`${where(page.url).replace(/[^/]+$/, '…')} answered ${page.status}`);
    return page;
  });
  const callback = await report.after(
    [browser, signInPage, user],
    'password sign-in and consent',
    async ([b, page], ctx) => {
      const cb = await b.signIn(page, email, password);
      ctx.note(cb.consentShown ? 'consent page allowed; code received' : 'code received without a consent page');
      return cb;
    },
  );
  const tokens = await report.after(
    [oidc, web, callback, user],
    'code exchange and ID token',
    async ([{ doc, keys }, client, cb, userId], ctx) => {
      const answer = await tokenRequest(http, doc.token_endpoint, client, {
        grant_type: 'authorization_code',
        code: cb.code,
        redirect_uri: redirectUri,
        code_verifier: cb.verifier,
      });
      const idToken = field(answer, 'id_token', 'the token response');
      const { payload, alg } = await verifyJwt(idToken, keys, { issuer, audience: client.id }, 'the ID token');
      check(payload.nonce === cb.nonce, 'the ID token carries another nonce');
      check(payload.sub === userId, 'the ID token names another user');
      field(answer, 'access_token', 'the token response');
      ctx.note(`ID token ${alg} verified`);
      return { refreshToken: field(answer, 'refresh_token', 'the token response') };
    },
  );
  const rotated = await report.after([oidc, web, tokens], 'refresh grant (rotation)', async ([{ doc }, client, t]) => {
    const answer = await tokenRequest(http, doc.token_endpoint, client, {
      grant_type: 'refresh_token',
      refresh_token: t.refreshToken,
    });
    field(answer, 'access_token', 'the refresh response');
    const next = field(answer, 'refresh_token', 'the refresh response');
    check(next !== t.refreshToken, 'the refresh token was not rotated (the same one came back)');
    return { used: t.refreshToken, next };
  });
  await report.after([oidc, web, rotated], 'used refresh token refused', async ([{ doc }, client, r], ctx) => {
    const grant = (token: string) => ({ grant_type: 'refresh_token', refresh_token: token });
    await refusedTokenRequest(http, doc.token_endpoint, client, grant(r.used), 'invalid_grant');
    // Reuse detection: a replayed refresh token revokes the whole grant, the new token too.
    await refusedTokenRequest(http, doc.token_endpoint, client, grant(r.next), 'invalid_grant');
    ctx.note('invalid_grant; the reuse revoked the grant');
  });

  await report.step('admin console (/admin/)', async () => {
    const page = await http.request(`${base}/admin/`);
    check(page.status === 200, `/admin/ answered ${page.status}`);
    check(/^text\/html\b/i.test(page.headers.get('content-type') ?? ''), '/admin/ is not HTML');
    check(/<html[\s>]/i.test(page.text), '/admin/ is not an HTML page');
  });
  await report.after([signInPage], 'security headers: sign-in page', async ([page], ctx) =>
    headerCheck(ctx, (found) => pageHeaderProblems(page.headers, page.text, https, found)),
  );
  await report.step('security headers: admin API', async (ctx) => {
    const answer: Answer = await http.request(`${base}/api/v1/tenants/system`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    check(answer.status === 200, refusal('GET', answer, 200));
    headerCheck(ctx, (found) => apiHeaderProblems(answer.headers, https, found));
  });
}

function headerCheck(ctx: { note(text: string): void }, problems: (found: string[]) => string[]): void {
  const found: string[] = [];
  const missing = problems(found);
  if (missing.length > 0) throw new StepFailure(missing.join('; '));
  ctx.note(found.join(', '));
}

/** Deletes the tenant (and checks it is gone), or says there was nothing to delete. */
async function cleanUp(report: Report, slug: string, mayExist: boolean, api: AdminApi): Promise<void> {
  const name = `cleanup: delete tenant ${slug}`;
  if (!mayExist) return report.skip(name, 'no tenant was made');
  await report.always(name, async (ctx) => {
    try {
      await api('DELETE', `/tenants/${slug}`, 204);
    } catch (err) {
      // A creation that never arrived leaves nothing to delete.
      if (!(err instanceof StepFailure) || !/ answered 404 /.test(err.message)) throw err;
      ctx.note('it did not exist');
      return;
    }
    await api('GET', `/tenants/${slug}`, 404).catch((err: unknown) => {
      throw err instanceof StepFailure ? new StepFailure(`still there after its deletion: ${err.message}`) : err;
    });
  });
}
