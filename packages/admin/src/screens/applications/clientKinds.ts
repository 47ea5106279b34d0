/**
 * What each kind of application is, which settings it has and what it starts with. The server
 * applies the same rules (packages/server/src/clients/service.ts): web and service clients are
 * confidential (a secret), spa and native ones are public (PKCE); only service clients hold
 * roles and only the others sign users in (redirect URIs, OpenID Connect scopes).
 */
import type { Client, ClientKind } from '../../api/types';
import type { FieldErrorOptions } from '../../components/fieldErrors';

export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export interface KindInfo {
  kind: ClientKind;
  label: string;
  /** One line under the label in the kind picker. */
  summary: string;
  /** Examples, to recognise one's own case. */
  examples: string;
  /** What a developer needs to know to set it up. */
  guidance: string[];
  confidential: boolean;
  /** Which settings this kind has. */
  fields: KindFields;
  redirectPlaceholder: string;
  postLogoutPlaceholder: string;
}

export interface KindFields {
  redirectUris: boolean;
  postLogoutRedirectUris: boolean;
  /** OpenID Connect scopes (openid, profile…) may be asked for. */
  oidcScopes: boolean;
  roles: boolean;
  firstParty: boolean;
  tokenEndpointAuthMethod: boolean;
  /** Has a secret that can be rotated. */
  secret: boolean;
  refreshTokens: boolean;
  idToken: boolean;
}

const userFacing = (confidential: boolean): KindFields => ({
  redirectUris: true,
  postLogoutRedirectUris: true,
  oidcScopes: true,
  roles: false,
  firstParty: true,
  tokenEndpointAuthMethod: confidential,
  secret: confidential,
  refreshTokens: true,
  idToken: true,
});

export const CLIENT_KINDS: Record<ClientKind, KindInfo> = {
  web: {
    kind: 'web',
    label: 'Web application',
    summary: 'Runs on a server that can keep a secret',
    examples: 'Next.js, Rails, Django, Spring, ASP.NET, Express with sessions',
    guidance: [
      'Confidential: it gets a client secret, shown once. Keep it on the server.',
      'Signs users in with the authorization code flow; PKCE is recommended too.',
      'Redirect URIs must match exactly: https, or http on localhost/127.0.0.1 while developing.',
    ],
    confidential: true,
    fields: userFacing(true),
    redirectPlaceholder: 'https://app.example.com/auth/callback',
    postLogoutPlaceholder: 'https://app.example.com/',
  },
  spa: {
    kind: 'spa',
    label: 'Single-page app',
    summary: 'Runs in the browser; cannot keep a secret',
    examples: 'React, Vue, Angular, Svelte without a backend of its own',
    guidance: [
      'Public: no secret. It must use the authorization code flow with PKCE (S256).',
      'The origins of its redirect URIs may call the token endpoint from the browser (CORS).',
      'Refresh tokens rotate on every use; keep tokens in memory or sessionStorage.',
    ],
    confidential: false,
    fields: userFacing(false),
    redirectPlaceholder: 'https://app.example.com/callback',
    postLogoutPlaceholder: 'https://app.example.com/',
  },
  native: {
    kind: 'native',
    label: 'Native app',
    summary: 'Mobile or desktop app on the user’s device',
    examples: 'iOS, Android, Electron, CLI tools',
    guidance: [
      'Public: no secret. It must use the authorization code flow with PKCE (S256), in the system browser.',
      'Redirect to a claimed https link (universal / app link) or to a loopback address such as http://127.0.0.1:8400/callback; custom URL schemes are not accepted.',
    ],
    confidential: false,
    fields: userFacing(false),
    redirectPlaceholder: 'http://127.0.0.1:8400/callback',
    postLogoutPlaceholder: 'http://127.0.0.1:8400/',
  },
  service: {
    kind: 'service',
    label: 'Service (machine to machine)',
    summary: 'A backend, job or daemon acting as itself, with no user',
    examples: 'Cron jobs, microservices calling an API, CI pipelines',
    guidance: [
      'Confidential: it gets a client secret, shown once, and uses the client credentials grant at the token endpoint.',
      'Signs no user in: no redirect URIs, no OpenID Connect scopes, no refresh tokens.',
      'The roles it holds go into its access tokens; with admin permissions it can call the admin API.',
    ],
    confidential: true,
    fields: {
      redirectUris: false,
      postLogoutRedirectUris: false,
      oidcScopes: false,
      roles: true,
      firstParty: false,
      tokenEndpointAuthMethod: true,
      secret: true,
      refreshTokens: false,
      idToken: false,
    },
    redirectPlaceholder: '',
    postLogoutPlaceholder: '',
  },
};

export const KIND_ORDER: readonly ClientKind[] = ['web', 'spa', 'native', 'service'];

export function kindInfo(kind: ClientKind): KindInfo {
  return CLIENT_KINDS[kind];
}

/** The scopes a new client of this kind may ask for, as the server would default them. */
export function defaultScopes(kind: ClientKind): string[] {
  return kind === 'service' ? [] : [...OIDC_SCOPES];
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The server's rule: https anywhere; http only on loopback; no fragment, no credentials. */
export function redirectUriProblem(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'not an absolute URL';
  }
  if (u.hash || value.includes('#')) return 'must not have a fragment (#…)';
  if (u.username || u.password) return 'must not carry a user name or password';
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:')
    return loopbackHosts.has(u.hostname) ? null : 'http only on localhost or 127.0.0.1; use https';
  return `must be https (or http on localhost), not ${u.protocol.replace(/:$/, '')}`;
}

/** One URI per line (any whitespace separates: URIs have none): empty lines dropped, each once. */
export function parseUriList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/\s+/)) {
    const v = part.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

export function formatUriList(uris: readonly string[]): string {
  return uris.join('\n');
}

/** The first problem of a URI list, said per line, or null. */
export function validateUriList(text: string, { required }: { required: boolean }): string | null {
  const uris = parseUriList(text);
  if (required && uris.length === 0) return 'Add at least one redirect URI';
  if (uris.length > 50) return 'At most 50';
  for (const [i, uri] of uris.entries()) {
    if (uri.length > 2048) return `Item ${i + 1}: at most 2048 characters`;
    const problem = redirectUriProblem(uri);
    if (problem) return `Item ${i + 1} (${uri}): ${problem}`;
  }
  return null;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Scope tokens as OAuth defines them; a service may not ask for OpenID Connect scopes. */
export function validateScopes(scopes: readonly string[], kind: ClientKind): string | null {
  if (scopes.length > 100) return 'At most 100 scopes';
  for (const s of scopes) {
    if (s.length > 100) return `${s.slice(0, 20)}…: at most 100 characters`;
    if (!SCOPE_TOKEN.test(s)) return `“${s}” is not a scope (no spaces, quotes or backslashes)`;
    if (kind === 'service' && (OIDC_SCOPES as readonly string[]).includes(s)) {
      return `“${s}”: a service signs in no user, so it cannot ask for OpenID Connect scopes`;
    }
  }
  return null;
}

/** The form of an application, for create and edit. Lifetimes: '' means the tenant default. */
export interface ClientFormValues {
  name: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  scopes: string[];
  firstParty: boolean;
  defaultApi: string;
  accessTokenTtlSeconds: number | '';
  refreshTokenIdleSeconds: number | '';
  refreshTokenAbsoluteSeconds: number | '';
  idTokenSigningAlg: 'ES256' | 'RS256';
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post';
  roles: string[];
}

/** What a new client of this kind starts with. */
export function createDefaults(kind: ClientKind): ClientFormValues {
  return {
    name: '',
    redirectUris: '',
    postLogoutRedirectUris: '',
    scopes: defaultScopes(kind),
    // Off, as the API defaults: skipping consent is a power of its own (only a caller holding
    // all the application could obtain may set it), chosen on purpose.
    firstParty: false,
    defaultApi: '',
    accessTokenTtlSeconds: '',
    refreshTokenIdleSeconds: '',
    refreshTokenAbsoluteSeconds: '',
    // The server's default: what OpenID Connect libraries assume.
    idTokenSigningAlg: 'RS256',
    tokenEndpointAuthMethod: 'client_secret_basic',
    roles: [],
  };
}

/** An existing client as form values. */
export function clientToForm(client: Client, adminApiIdentifier?: string): ClientFormValues {
  return {
    name: client.name,
    redirectUris: formatUriList(client.redirectUris),
    postLogoutRedirectUris: formatUriList(client.postLogoutRedirectUris),
    scopes: [...client.scopes],
    firstParty: client.firstParty,
    // A service without its own default API reads as the admin API: that is no choice to show.
    defaultApi: client.defaultApi && client.defaultApi !== adminApiIdentifier ? client.defaultApi : '',
    accessTokenTtlSeconds: client.accessTokenTtlSeconds ?? '',
    refreshTokenIdleSeconds: client.refreshTokenIdleSeconds ?? '',
    refreshTokenAbsoluteSeconds: client.refreshTokenAbsoluteSeconds ?? '',
    idTokenSigningAlg: client.idTokenSigningAlg,
    tokenEndpointAuthMethod:
      client.tokenEndpointAuthMethod === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic',
    roles: [...client.roles],
  };
}

const ttl = (v: number | '') => (v === '' ? null : v);

/** The body of `POST …/clients`: only the settings this kind has. */
export function createBody(kind: ClientKind, v: ClientFormValues): Record<string, unknown> {
  const f = kindInfo(kind).fields;
  const body: Record<string, unknown> = { kind, name: v.name.trim(), scopes: v.scopes };
  if (f.redirectUris) body.redirectUris = parseUriList(v.redirectUris);
  if (f.postLogoutRedirectUris) body.postLogoutRedirectUris = parseUriList(v.postLogoutRedirectUris);
  // Off is the API's default: sent only when turned on, the one choice that needs the right to make it.
  if (f.firstParty && v.firstParty) body.firstParty = true;
  if (f.roles) body.roles = v.roles;
  if (f.tokenEndpointAuthMethod) body.tokenEndpointAuthMethod = v.tokenEndpointAuthMethod;
  if (v.defaultApi) body.defaultApi = v.defaultApi;
  const lifetimes = {
    accessTokenTtlSeconds: ttl(v.accessTokenTtlSeconds),
    refreshTokenIdleSeconds: f.refreshTokens ? ttl(v.refreshTokenIdleSeconds) : null,
    refreshTokenAbsoluteSeconds: f.refreshTokens ? ttl(v.refreshTokenAbsoluteSeconds) : null,
  };
  for (const [k, value] of Object.entries(lifetimes)) if (value !== null) body[k] = value;
  if (f.idToken) body.idTokenSigningAlg = v.idTokenSigningAlg;
  return body;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The body of `PATCH …/clients/{id}`: what changed from `initial`, limited to what the kind has. */
export function patchBody(kind: ClientKind, initial: ClientFormValues, v: ClientFormValues): Record<string, unknown> {
  const f = kindInfo(kind).fields;
  const body: Record<string, unknown> = {};
  if (v.name.trim() !== initial.name.trim()) body.name = v.name.trim();
  if (f.redirectUris) {
    const next = parseUriList(v.redirectUris);
    if (!sameList(next, parseUriList(initial.redirectUris))) body.redirectUris = next;
  }
  if (f.postLogoutRedirectUris) {
    const next = parseUriList(v.postLogoutRedirectUris);
    if (!sameList(next, parseUriList(initial.postLogoutRedirectUris))) body.postLogoutRedirectUris = next;
  }
  if (!sameList(v.scopes, initial.scopes)) body.scopes = v.scopes;
  if (f.firstParty && v.firstParty !== initial.firstParty) body.firstParty = v.firstParty;
  if (v.defaultApi !== initial.defaultApi) body.defaultApi = v.defaultApi || null;
  const lifetimeKeys = ['accessTokenTtlSeconds', 'refreshTokenIdleSeconds', 'refreshTokenAbsoluteSeconds'] as const;
  for (const k of lifetimeKeys) {
    if (!f.refreshTokens && k !== 'accessTokenTtlSeconds') continue;
    if (v[k] !== initial[k]) body[k] = ttl(v[k]);
  }
  if (f.idToken && v.idTokenSigningAlg !== initial.idTokenSigningAlg) body.idTokenSigningAlg = v.idTokenSigningAlg;
  if (f.tokenEndpointAuthMethod && v.tokenEndpointAuthMethod !== initial.tokenEndpointAuthMethod) {
    body.tokenEndpointAuthMethod = v.tokenEndpointAuthMethod;
  }
  if (f.roles && !sameList([...v.roles].sort(), [...initial.roles].sort())) body.roles = v.roles;
  return body;
}

/** Form-level checks that span fields (the server says the same, less precisely). */
export function lifetimeProblem(v: Pick<ClientFormValues, 'refreshTokenIdleSeconds' | 'refreshTokenAbsoluteSeconds'>) {
  if (v.refreshTokenIdleSeconds !== '' && v.refreshTokenAbsoluteSeconds !== '') {
    if (v.refreshTokenIdleSeconds > v.refreshTokenAbsoluteSeconds) {
      return 'The idle lifetime cannot be longer than the absolute one';
    }
  }
  return null;
}

/** Form paths the API's validation details can land on. */
export const CLIENT_FORM_FIELDS = [
  'name',
  'redirectUris',
  'postLogoutRedirectUris',
  'scopes',
  'firstParty',
  'defaultApi',
  'accessTokenTtlSeconds',
  'refreshTokenIdleSeconds',
  'refreshTokenAbsoluteSeconds',
  'idTokenSigningAlg',
  'tokenEndpointAuthMethod',
  'roles',
] as const;

/** Where the API's problems of an application form go: an unknown scope beside the scopes field. */
export const CLIENT_ERROR_OPTIONS: FieldErrorOptions = {
  fields: CLIENT_FORM_FIELDS,
  codes: { unknown_scope: 'scopes' },
};

export type ClientFormErrors = Partial<Record<keyof ClientFormValues, string>>;

const inRange = (v: number | '', min: number, max: number, what: string) =>
  v === '' || (Number.isInteger(v) && v >= min && v <= max) ? null : `${what}: between ${min} and ${max} seconds`;

/** Every check the form can make before sending, per field (empty: nothing to say). */
export function validateClientForm(kind: ClientKind, v: ClientFormValues): ClientFormErrors {
  const f = kindInfo(kind).fields;
  const errors: ClientFormErrors = {};
  const put = (field: keyof ClientFormValues, message: string | null) => {
    if (message) errors[field] = message;
  };
  const name = v.name.trim();
  put('name', !name ? 'Give the application a name' : name.length > 200 ? 'At most 200 characters' : null);
  if (f.redirectUris) put('redirectUris', validateUriList(v.redirectUris, { required: true }));
  if (f.postLogoutRedirectUris)
    put('postLogoutRedirectUris', validateUriList(v.postLogoutRedirectUris, { required: false }));
  put('scopes', validateScopes(v.scopes, kind));
  put('accessTokenTtlSeconds', inRange(v.accessTokenTtlSeconds, 60, 86_400, 'Access token'));
  if (f.refreshTokens) {
    put(
      'refreshTokenIdleSeconds',
      inRange(v.refreshTokenIdleSeconds, 300, 31_536_000, 'Refresh token') ?? lifetimeProblem(v),
    );
    put('refreshTokenAbsoluteSeconds', inRange(v.refreshTokenAbsoluteSeconds, 300, 31_536_000, 'Refresh token'));
  }
  if (f.roles && v.roles.length > 50) put('roles', 'At most 50 roles');
  return errors;
}
