/**
 * A stand-in for GitHub's and Facebook's OAuth 2 servers and profile APIs, on 127.0.0.1: the
 * authorization endpoint answers at once with a code for the person the test chose, the
 * token endpoint checks the client's secret, the code (single use) and PKCE S256, and the
 * profile endpoints answer as each provider documents (GitHub: /user, /user/emails;
 * Facebook: /me?fields=…). Only what the protocol needs; stopped by the test that started it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UpstreamPerson {
  id: number | string;
  login?: string;
  name?: string | null;
  /** GitHub's public email on /user. */
  publicEmail?: string | null;
  /** GitHub's /user/emails; Facebook's `email` is the first verified one. */
  emails: { email: string; primary: boolean; verified: boolean }[];
}

export interface OAuth2Upstream {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Who the next authorization signs in. */
  person: UpstreamPerson;
  /** Token requests seen, for assertions. */
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startOAuth2Upstream(person: UpstreamPerson): Promise<OAuth2Upstream> {
  const clientId = 'upstream-client';
  const clientSecret = randomBytes(16).toString('hex');
  const codes = new Map<string, { challenge: string; redirectUri: string; person: UpstreamPerson }>();
  const tokens = new Map<string, UpstreamPerson>();
  const state: OAuth2Upstream = {
    url: '',
    clientId,
    clientSecret,
    person,
    tokenRequests: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const json = (res: import('node:http').ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/login/oauth/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        return json(res, 400, { error: 'invalid_request' });
      }
      const code = randomBytes(16).toString('hex');
      codes.set(code, {
        challenge: q.get('code_challenge') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
        person: state.person,
      });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      if (q.get('state')) back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
      const form = new URLSearchParams(await body(req));
      state.tokenRequests.push(form);
      // RFC 6749 section 2.3.1: the id and secret are form-encoded before Basic's base64.
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const [id, secret] = basic
        ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent)
        : [];
      const authOk =
        (id === clientId && secret === clientSecret) ||
        (form.get('client_id') === clientId && form.get('client_secret') === clientSecret);
      if (!authOk) return json(res, 401, { error: 'invalid_client' });
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!grant || grant.challenge !== challenge || grant.redirectUri !== form.get('redirect_uri')) {
        return json(res, 400, { error: 'invalid_grant' });
      }
      const token = randomBytes(16).toString('hex');
      tokens.set(token, grant.person);
      return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const who = bearer ? tokens.get(bearer) : undefined;
    if (!who) return json(res, 401, { message: 'Bad credentials' });
    if (url.pathname === '/api/user') {
      return json(res, 200, { id: who.id, login: who.login, name: who.name ?? null, email: who.publicEmail ?? null });
    }
    if (url.pathname === '/api/user/emails') return json(res, 200, who.emails);
    if (url.pathname === '/graph/me') {
      const email = who.emails.find((e) => e.verified)?.email;
      return json(res, 200, { id: String(who.id), name: who.name, ...(email ? { email } : {}) });
    }
    return json(res, 404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** The endpoints of the stand-in, in the shape oauth2-profiles.ts takes. */
export function upstreamEndpoints(upstream: OAuth2Upstream, kind: 'github' | 'facebook') {
  return {
    authorizationEndpoint: `${upstream.url}/login/oauth/authorize`,
    tokenEndpoint: `${upstream.url}/login/oauth/access_token`,
    apiBase: kind === 'github' ? `${upstream.url}/api` : `${upstream.url}/graph`,
  };
}
