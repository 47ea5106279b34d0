import { Badge } from '@mantine/core';
import type { IdentityProvider, IdpKind } from '../../api/types';
import { KIND_PRESETS } from './idpForm';

const COLORS: Record<IdpKind, string> = { oidc: 'blue', google: 'red', microsoft: 'cyan' };

export function IdpKindBadge({ kind }: { kind: IdpKind }) {
  return (
    <Badge
      color={COLORS[kind]}
      variant="light"
      style={{ textTransform: 'none', flexShrink: 0, minWidth: 'max-content' }}
    >
      {KIND_PRESETS[kind].label}
    </Badge>
  );
}

/** Whether the provider holds the credential its auth method needs: "Secret set", "Key set", or what is missing. */
export function CredentialBadge({ idp }: { idp: IdentityProvider }) {
  const key = idp.tokenEndpointAuthMethod === 'private_key_jwt';
  const set = key ? idp.privateKeySet : idp.clientSecretSet;
  const what = key ? 'Key' : 'Secret';
  return (
    <Badge size="sm" variant="light" color={set ? 'teal' : 'red'} style={{ textTransform: 'none', flexShrink: 0 }}>
      {set ? `${what} set` : `No ${what.toLowerCase()}`}
    </Badge>
  );
}
