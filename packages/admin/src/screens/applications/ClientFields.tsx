/** Fields of the application form, shared by the create modal and the application page. */
import { MultiSelect, Select, Switch, TagsInput, Textarea } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { useRolesQuery } from '../../api/queries';
import type { ClientKind } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { useApisQuery } from '../apis/queries';
import { type ClientFormValues, kindInfo, OIDC_SCOPES } from './clientKinds';

type Form = UseFormReturnType<ClientFormValues>;

export function RedirectUrisField({ form, kind, disabled }: { form: Form; kind: ClientKind; disabled?: boolean }) {
  const info = kindInfo(kind);
  return (
    <Textarea
      label="Redirect URIs"
      description="Where the sign-in page may send users back with a code. One per line; they must match exactly."
      placeholder={info.redirectPlaceholder}
      required
      autosize
      minRows={2}
      maxRows={8}
      spellCheck={false}
      autoComplete="off"
      styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } }}
      disabled={disabled}
      {...form.getInputProps('redirectUris')}
    />
  );
}

export function PostLogoutUrisField({ form, kind, disabled }: { form: Form; kind: ClientKind; disabled?: boolean }) {
  const info = kindInfo(kind);
  return (
    <Textarea
      label="Post-logout redirect URIs"
      description="Optional: where users may land after signing out (RP-initiated logout). One per line."
      placeholder={info.postLogoutPlaceholder}
      autosize
      minRows={1}
      maxRows={6}
      spellCheck={false}
      autoComplete="off"
      styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } }}
      disabled={disabled}
      {...form.getInputProps('postLogoutRedirectUris')}
    />
  );
}

export function FirstPartyField({ form, disabled }: { form: Form; disabled?: boolean }) {
  return (
    <Switch
      label="First-party application"
      description="Your own app: users are not asked to consent to what it requests. Off by default, as in the API; leave it off for partner or third-party apps."
      disabled={disabled}
      {...form.getInputProps('firstParty', { type: 'checkbox' })}
    />
  );
}

/**
 * Scopes it may ask for: suggests the OpenID Connect ones (not for services) and the tenant's API
 * scopes. An empty list asks no API scope at all (docs/authorization.md); the server refuses a
 * scope no API defines (`unknown_scope`, shown beside the field).
 */
export function ScopesField({ form, kind, disabled }: { form: Form; kind: ClientKind; disabled?: boolean }) {
  const { slug } = useCurrentTenant();
  const apis = useApisQuery(slug);
  const apiScopes = (apis.data ?? []).flatMap((a) => a.scopes.map((s) => s.name));
  const suggestions = [...new Set([...(kindInfo(kind).fields.oidcScopes ? OIDC_SCOPES : []), ...apiScopes])];
  return (
    <TagsInput
      label="Allowed scopes"
      description={
        kind === 'service'
          ? 'Scopes of your APIs it may ask for. Empty: no API scopes at all. Press Enter after each.'
          : 'openid signs users in; profile and email add claims; offline_access allows refresh tokens. Add the scopes of your APIs it may ask for: without any listed it gets no API scope. Press Enter after each.'
      }
      data={suggestions}
      splitChars={[' ', ',']}
      clearable
      disabled={disabled}
      {...form.getInputProps('scopes')}
    />
  );
}

export function RolesField({ form, disabled }: { form: Form; disabled?: boolean }) {
  const { slug } = useCurrentTenant();
  const roles = useRolesQuery(slug);
  return (
    <MultiSelect
      label="Roles"
      description="What the service may do: the roles go into its access tokens. Admin permissions let it call the admin API."
      placeholder={roles.isPending ? 'Loading roles…' : 'Pick roles'}
      data={(roles.data ?? []).map((r) => ({ value: r.name, label: r.name }))}
      searchable
      clearable
      nothingFoundMessage="No such role"
      disabled={disabled}
      {...form.getInputProps('roles')}
    />
  );
}

/** The API its access tokens are for when it names none (`resource`). */
export function DefaultApiField({ form, kind, disabled }: { form: Form; kind: ClientKind; disabled?: boolean }) {
  const { slug } = useCurrentTenant();
  const config = useConsoleConfig();
  const apis = useApisQuery(slug);
  const own = (apis.data ?? []).filter((a) => !a.builtin && a.identifier !== config.adminApi);
  const none = kind === 'service' ? 'Latchkey admin API (default)' : 'None: tokens for userinfo only';
  return (
    <Select
      label="Default API"
      description="The audience of its access tokens when the request names no resource."
      data={[
        { value: '', label: none },
        ...own.map((a) => ({ value: a.identifier, label: `${a.name} (${a.identifier})` })),
      ]}
      allowDeselect={false}
      disabled={disabled}
      {...form.getInputProps('defaultApi')}
    />
  );
}
