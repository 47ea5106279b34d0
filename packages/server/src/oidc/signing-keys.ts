/**
 * A tenant's signing keys as oidc-provider's `ExternalSigningKey`s, signing with node:crypto
 * rather than through WebCrypto (which jose uses for a private JWK). Measured on the 2-core
 * machine (bench notes in docs/oidc.md): an ES256 signature costs about 0.5 ms of CPU through
 * WebCrypto and 0.05 ms with node:crypto, an RS256 one about 1 ms against 0.4–0.6 ms; every
 * access token (ES256) and ID token (RS256 by default) pays it. EC signatures run inline (less
 * than a thread hop costs); RSA ones in libuv's pool, off the thread that answers requests.
 * The signatures are the same: PKCS#1 v1.5 for RS256, and for ES256 the raw r‖s that JWS
 * wants (`ieee-p1363`), not DER.
 *
 * oidc-provider calls the feature experimental ("externalSigningSupport", acknowledged at
 * its version `experimental-01` in provider.ts): a version that changes it refuses to start,
 * rather than signing differently.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import type { JWK } from 'jose';
import type { ExternalSigningKey } from 'oidc-provider';

/** The version of oidc-provider's external signing this module implements. */
export const EXTERNAL_SIGNING_ACK = 'experimental-01';

type ExternalSigningKeyClass = new () => ExternalSigningKey;

/** `jwks` for the provider: each private JWK (kid and alg set) as a key that signs with node:crypto. */
export function signingKeys(Base: ExternalSigningKeyClass, jwks: JWK[]): ExternalSigningKey[] {
  return jwks.map((jwk) => {
    if (!jwk.kid || (jwk.alg !== 'ES256' && jwk.alg !== 'RS256')) {
      throw new Error(`a signing key needs a kid and the alg ES256 or RS256 (key ${jwk.kid ?? '?'})`);
    }
    return new (localKeyClass(Base))(jwk);
  });
}

const classes = new WeakMap<ExternalSigningKeyClass, new (jwk: JWK) => ExternalSigningKey>();

/** The subclass of the provider's `ExternalSigningKey` (it checks `instanceof` on its own class). */
function localKeyClass(Base: ExternalSigningKeyClass) {
  let made = classes.get(Base);
  if (made) return made;
  made = class LocalSigningKey extends Base {
    readonly #private: KeyObject;
    readonly #public: KeyObject;
    readonly #ec: boolean;

    constructor(jwk: JWK) {
      super();
      this.#private = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
      this.#public = createPublicKey(this.#private);
      this.#ec = jwk.alg === 'ES256';
      // Setters at run time; the type declarations know only the getters.
      const named = this as unknown as { kid?: string; alg?: string };
      named.kid = jwk.kid;
      named.alg = jwk.alg;
    }

    /** The public key: what oidc-provider publishes (JWKS) and verifies its own tokens with. */
    override keyObject(): KeyObject {
      return this.#public;
    }

    override sign(data: Uint8Array): Promise<Uint8Array> {
      if (this.#ec) {
        return Promise.resolve(sign('sha256', data, { key: this.#private, dsaEncoding: 'ieee-p1363' }));
      }
      return new Promise((resolve, reject) =>
        sign('sha256', data, this.#private, (err, signature) => (err ? reject(err) : resolve(signature))),
      );
    }
  };
  classes.set(Base, made);
  return made;
}
