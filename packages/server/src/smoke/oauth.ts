/**
 * The relying-party side of the smoke suite, with fetch and `jose` only: discovery, the JWKS
 * (checked for private key material), token endpoint requests with HTTP Basic client
 * authentication, and JWT verification against the keys the issuer publishes.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { basicAuth, form, type Http, parseJson, refusal } from './http.js';
import { check, StepFailure } from './report.js';

export interface Discovery {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

export type KeySet = ReturnType<typeof createLocalJWKSet>;

/** The issuer's discovery document, checked to name `issuer` and its endpoints. */
export async function discover(http: Http, issuer: string): Promise<Discovery> {
  const doc = await http.json(`${issuer}/.well-known/openid-configuration`, 200);
  check(
    doc.issuer === issuer,
    `issuer is ${JSON.stringify(doc.issuer)}, not ${issuer}: is --url the deployment's PUBLIC_URL?`,
  );
  for (const field of ['jwks_uri', 'authorization_endpoint', 'token_endpoint'] as const) {
    const value = doc[field];
    check(typeof value === 'string' && /^https?:\/\//.test(value), `discovery has no ${field}`);
  }
  return doc as unknown as Discovery;
}

/** Members that only a private or symmetric JWK has. */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The issuer's public keys: at least one, each with a kid, none with private material. */
export async function fetchKeys(http: Http, jwksUri: string): Promise<{ keys: KeySet; summary: string }> {
  const body = await http.json(jwksUri, 200);
  const keys = body.keys;
  check(Array.isArray(keys) && keys.length > 0, 'the JWKS has no keys');
  const algorithms = new Set<string>();
  for (const key of keys as Record<string, unknown>[]) {
    check(typeof key.kid === 'string' && typeof key.kty === 'string', 'a key of the JWKS has no kid or kty');
    const leaked = privateMembers.filter((m) => m in key);
    check(leaked.length === 0, `key ${key.kid} publishes private members (${leaked.join(', ')})`);
    algorithms.add(typeof key.alg === 'string' ? key.alg : String(key.kty));
  }
  return {
    keys: createLocalJWKSet(body as unknown as JSONWebKeySet),
    summary: `${keys.length} key${keys.length === 1 ? '' : 's'} (${[...algorithms].sort().join(', ')})`,
  };
}

export interface ClientCredentials {
  id: string;
  secret: string;
}

/** A token endpoint request; its JSON answer when 200, else the OAuth error as a failure. */
export async function tokenRequest(
  http: Http,
  endpoint: string,
  client: ClientCredentials,
  fields: Record<string, string>,
): Promise<Record<string, unknown>> {
  const answer = await http.request(endpoint, form(fields, { authorization: basicAuth(client.id, client.secret) }));
  if (answer.status !== 200) throw new StepFailure(refusal('POST', answer, 200));
  // RFC 6749 5.1: token responses must not be cached.
  check(
    /\bno-store\b/i.test(answer.headers.get('cache-control') ?? ''),
    'the token response lacks Cache-Control: no-store',
  );
  return parseJson(answer, 'POST');
}

/** The same request, expected to be refused with `error` (400 invalid_grant, say). */
export async function refusedTokenRequest(
  http: Http,
  endpoint: string,
  client: ClientCredentials,
  fields: Record<string, string>,
  error: string,
): Promise<void> {
  const answer = await http.request(endpoint, form(fields, { authorization: basicAuth(client.id, client.secret) }));
  check(answer.status !== 200, `${fields.grant_type} was accepted again`);
  const body = parseJson(answer, 'POST');
  check(body.error === error, refusal('POST', answer, `400 ${error}`));
}

/** A string field of a JSON answer, or a failure naming it. */
export function field(body: Record<string, unknown>, name: string, what = 'the answer'): string {
  const value = body[name];
  check(typeof value === 'string' && value !== '', `${what} has no ${name}`);
  return value;
}

/** Verifies a JWT's signature against `keys` and its issuer (and audience, typ when given). */
export async function verifyJwt(
  token: string,
  keys: KeySet,
  expected: { issuer: string; audience?: string; typ?: string },
  what: string,
): Promise<{ payload: JWTPayload; alg: string }> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys, expected);
    return { payload, alg: protectedHeader.alg };
  } catch (err) {
    if (err instanceof errors.JOSEError) throw new StepFailure(`${what} does not verify: ${err.code}: ${err.message}`);
    throw err;
  }
}
