/**
 * The service provider's signing credentials, one set per tenant (or per provider): an RSA
 * 2048 key pair and a self-signed X.509 certificate for it, which the SP metadata publishes
 * and the IdP uses to check our signed AuthnRequests. RSA rather than EC: every IdP verifies
 * RSA-SHA256, not all of them ECDSA. Generated once; the caller keeps the private key sealed
 * (`SecretBox`, as signing keys are) and the certificate in the clear.
 *
 * The certificate is built by `@peculiar/x509` (no hand-written ASN.1). It needs a Reflect
 * metadata polyfill, loaded here on first use only, so a process that never generates SP
 * credentials never has it.
 */
import { randomBytes, webcrypto } from 'node:crypto';

export interface SpCredentials {
  privateKeyPem: string;
  certPem: string;
}

/** How long the self-signed certificate is valid. IdPs check SP certificates loosely if at all; 10 years avoids a silent break. */
export const spCertificateYears = 10;

const algorithm = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der)
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** A new key pair and a self-signed certificate whose subject is `CN=<commonName>`. */
export async function generateSpCredentials(commonName: string): Promise<SpCredentials> {
  const cn = commonName.trim();
  if (!cn || cn.length > 64) throw new RangeError('commonName must be 1 to 64 characters');
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto;
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + spCertificateYears);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: [cn] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ],
    },
    // Node's webcrypto is the one @peculiar/x509 wants; under the DOM library (the e2e tests') its type is named apart.
    crypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { privateKeyPem: pem('PRIVATE KEY', pkcs8), certPem: cert.toString('pem').trim().concat('\n') };
}
