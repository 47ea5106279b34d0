import { Badge } from '@mantine/core';
import type { IdentityProvider, IdpKind } from '../../api/types';
import { KIND_PRESETS } from './idpForm';

const COLORS: Record<IdpKind, string> = {
  oidc: 'blue',
  google: 'red',
  microsoft: 'cyan',
  apple: 'dark',
  github: 'gray',
  facebook: 'indigo',
  latchkey: 'violet',
  saml: 'orange',
};

export function IdpKindBadge({ kind }: { kind: IdpKind }) {
  return (
    <Badge
      color={COLORS[kind]}
      variant="light"
      style={{ textTransform: 'none', flexShrink: 0, minWidth: 'max-content' }}
    >
      {KIND_PRESETS[kind]?.label ?? kind}
    </Badge>
  );
}

/**
 * Whether the provider holds the credential it needs: "Secret set", "Key set" (a private JWK, or
 * Apple's key), or what is missing. Another tenant and SAML have no client credential: no badge.
 */
export function CredentialBadge({ idp }: { idp: IdentityProvider }) {
  if (idp.kind === 'latchkey' || idp.kind === 'saml') return null;
  const key = idp.kind === 'apple' || idp.tokenEndpointAuthMethod === 'private_key_jwt';
  const set = idp.kind === 'apple' ? idp.appleKeySet === true : key ? idp.privateKeySet : idp.clientSecretSet;
  const what = key ? 'Key' : 'Secret';
  return (
    <Badge size="sm" variant="light" color={set ? 'teal' : 'red'} style={{ textTransform: 'none', flexShrink: 0 }}>
      {set ? `${what} set` : `No ${what.toLowerCase()}`}
    </Badge>
  );
}
