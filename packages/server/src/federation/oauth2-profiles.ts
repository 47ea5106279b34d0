/**
 * Providers that speak OAuth 2 but not OpenID Connect (GitHub, Facebook): openid-client runs
 * the authorization-code grant (PKCE, state), and who signed in comes from the provider's own
 * API with the access token, as each documents it. GitHub Enterprise Server and tests point
 * the endpoints elsewhere (`endpoints`); the defaults are the public services.
 */
import * as oidc from 'openid-client';
import { asCustomFetch, type OutboundFetch } from './outbound.js';

export type OAuth2Kind = 'github' | 'facebook';

/** Who signed in upstream, in the provider-neutral shape sign-in works with. */
export interface UpstreamProfile {
  /** The provider's stable id for the person (never the email). */
  subject: string;
  email: string | null;
  /** Whether the provider says it checked the email belongs to them. */
  emailVerified: boolean;
  name: string | null;
}

/** Where a provider's authorization, token and profile API live. */
export interface OAuth2Endpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  apiBase: string;
}

interface OAuth2Preset {
  /** openid-client names every server by an issuer; these providers have none, so their origin. */
  issuer: string;
  endpoints: OAuth2Endpoints;
  scopes: string[];
  profile(get: (path: string) => Promise<unknown>): Promise<UpstreamProfile>;
}

/** A profile API's answer that is not what the provider documents. */
export class UpstreamProfileError extends Error {
  readonly code = 'upstream_profile_invalid';
}

const record = (value: unknown): Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UpstreamProfileError('the profile API did not answer with an object');
  }
  return value as Record<string, unknown>;
};

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** An id that is a number (GitHub) or a string of digits (Facebook), as text. */
function subjectOf(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^[0-9A-Za-z_-]{1,64}$/.test(value)) return value;
  throw new UpstreamProfileError('the profile API gave no usable id');
}

export const oauth2Presets: Record<OAuth2Kind, OAuth2Preset> = {
  github: {
    issuer: 'https://github.com',
    endpoints: {
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      apiBase: 'https://api.github.com',
    },
    scopes: ['read:user', 'user:email'],
    // GET /user has the public email at most; GET /user/emails says which are verified
    // (docs.github.com, "REST API endpoints for emails"): the primary one if verified, else none.
    async profile(get) {
      const user = record(await get('/user'));
      const emails = await get('/user/emails');
      const list = Array.isArray(emails) ? emails.map(record) : [];
      const primary = list.find((e) => e.primary === true && e.verified === true && text(e.email));
      const fallback = text(user.email);
      return {
        subject: subjectOf(user.id),
        email: primary ? text(primary.email) : fallback,
        emailVerified: Boolean(primary),
        name: text(user.name) ?? text(user.login),
      };
    },
  },
  facebook: {
    issuer: 'https://www.facebook.com',
    endpoints: {
      authorizationEndpoint: 'https://www.facebook.com/v19.0/dialog/oauth',
      tokenEndpoint: 'https://graph.facebook.com/v19.0/oauth/access_token',
      apiBase: 'https://graph.facebook.com/v19.0',
    },
    scopes: ['email', 'public_profile'],
    // The Graph API returns `email` only when the person confirmed it with Facebook.
    async profile(get) {
      const me = record(await get('/me?fields=id,name,email'));
      const email = text(me.email);
      return { subject: subjectOf(me.id), email, emailVerified: email !== null, name: text(me.name) };
    },
  },
};

/** At most this much of a profile answer is read (a profile is a few hundred bytes). */
const MAX_PROFILE_BYTES = 256 * 1024;

/** The openid-client configuration for a provider of `kind`: its endpoints, overridden by `endpoints`. */
export function oauth2Configuration(
  kind: OAuth2Kind,
  clientId: string,
  clientAuth: oidc.ClientAuth,
  options: {
    endpoints?: Partial<OAuth2Endpoints> | undefined;
    allowHttp?: boolean;
    timeoutSeconds?: number;
    /** The token endpoint's and the profile API's requests (federation/outbound.ts). */
    fetch?: OutboundFetch;
  } = {},
): oidc.Configuration {
  const preset = oauth2Presets[kind];
  const endpoints = { ...preset.endpoints, ...options.endpoints };
  const issuer = options.endpoints?.authorizationEndpoint
    ? new URL(endpoints.authorizationEndpoint).origin
    : preset.issuer;
  const config = new oidc.Configuration(
    {
      issuer,
      authorization_endpoint: endpoints.authorizationEndpoint,
      token_endpoint: endpoints.tokenEndpoint,
    },
    clientId,
    undefined,
    clientAuth,
  );
  config.timeout = options.timeoutSeconds ?? 10;
  if (options.allowHttp) oidc.allowInsecureRequests(config);
  if (options.fetch) config[oidc.customFetch] = asCustomFetch(options.fetch);
  return config;
}

/** Who the access token belongs to, from the provider's profile API. */
export async function oauth2Profile(
  kind: OAuth2Kind,
  config: oidc.Configuration,
  accessToken: string,
  endpoints?: Partial<OAuth2Endpoints>,
): Promise<UpstreamProfile> {
  const preset = oauth2Presets[kind];
  const apiBase = (endpoints?.apiBase ?? preset.endpoints.apiBase).replace(/\/+$/, '');
  const headers = new Headers({
    accept: kind === 'github' ? 'application/vnd.github+json' : 'application/json',
    // GitHub refuses API requests without a User-Agent.
    'user-agent': 'Latchkey',
  });
  const get = async (path: string): Promise<unknown> => {
    const res = await oidc.fetchProtectedResource(
      config,
      accessToken,
      new URL(`${apiBase}${path}`),
      'GET',
      null,
      headers,
    );
    if (!res.ok) throw new UpstreamProfileError(`the profile API answered ${res.status}`);
    return parseBounded(res);
  };
  return preset.profile(get);
}

async function parseBounded(res: Response): Promise<unknown> {
  const reader = res.body?.getReader();
  if (!reader) throw new UpstreamProfileError('the profile API sent no body');
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_PROFILE_BYTES) {
      await reader.cancel();
      throw new UpstreamProfileError('the profile API answer is too large');
    }
    chunks.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new UpstreamProfileError('the profile API answer is not JSON');
  }
}
