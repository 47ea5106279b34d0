/**
 * The sections of the identity provider form, shared by the create modal and the provider's page:
 * how it shows on the sign-in page, how Latchkey connects to it, who may sign up and link, which
 * email domains go straight to it, which claims say what, and which upstream groups give which roles.
 */
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Group,
  PasswordInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Tooltip,
} from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { IconAlertTriangle, IconInfoCircle, IconPlus, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/ApiProvider';
import { useRolesQuery } from '../../api/queries';
import type { IdpAuthMethod, IdpKind, Page, Tenant } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { Section } from '../../components/Section';
import { CopyField } from '../applications/IssuerPanel';
import {
  AUTH_METHODS,
  federationRedirectUri,
  IDP_KINDS,
  type IdpFormValues,
  KIND_PRESETS,
  kindShape,
  roleMappingRow,
  SLUG_PATTERN,
  withKind,
} from './idpForm';

type Form = UseFormReturnType<IdpFormValues>;

export interface IdpFieldsProps {
  form: Form;
  /** Creating: kind and slug are chosen here (they cannot change later). */
  creating: boolean;
  /** What the provider has stored: the secret and key fields then say "empty keeps it". */
  clientSecretSet?: boolean;
  privateKeySet?: boolean;
  /** apple: a key is stored (its three fields empty keep it). */
  appleKeySet?: boolean;
  disabled?: boolean;
}

const monospace = { input: { fontFamily: 'var(--mantine-font-family-monospace)' } };

export function IdpFields(props: IdpFieldsProps) {
  return (
    <>
      <AppearanceSection {...props} />
      {kindShape(props.form.values.kind).saml ? <SamlSection {...props} /> : <ConnectionSection {...props} />}
      <LinkingSection {...props} />
      {kindShape(props.form.values.kind).claims && <ClaimsSection {...props} />}
      {kindShape(props.form.values.kind).roles && <RoleMappingsSection {...props} />}
    </>
  );
}

/** A SAML IdP posts to its ACS URL (shown once saved); another tenant's client is registered by Latchkey. */
const hasRedirectUri = (kind: IdpKind) => kind !== 'saml' && kind !== 'latchkey';

/** The kind (creating only), the slug, and what the sign-in page shows. */
function AppearanceSection({ form, creating, disabled }: IdpFieldsProps) {
  const config = useConsoleConfig();
  const { slug: tenantSlug } = useCurrentTenant();
  const preset = KIND_PRESETS[form.values.kind];
  const idpSlug = form.values.slug.trim();
  return (
    <Section title="Provider" description="How it shows on the sign-in page.">
      {creating && (
        <>
          <Select
            label="Kind"
            description="Google, Microsoft and Apple fill in their issuer; GitHub and Facebook are OAuth 2 with a profile API; another tenant of this Latchkey needs no client; SAML 2.0 reads the IdP’s metadata."
            data={IDP_KINDS.map((k) => ({ value: k, label: KIND_PRESETS[k].label }))}
            allowDeselect={false}
            value={form.values.kind}
            onChange={(k) => k && form.setValues(withKind(form.values, k as IdpKind))}
            data-autofocus
          />
          <Alert variant="light" color="blue" icon={<IconInfoCircle aria-hidden />} p="sm">
            <Text size="sm">{preset.help}</Text>
          </Alert>
        </>
      )}
      <TextInput
        label="Slug"
        description={
          creating
            ? 'Names it in URLs, like its redirect URI. Lowercase letters, digits and dashes.'
            : 'Names it in URLs. Changing it changes the redirect URI: register the new one at the provider too.'
        }
        placeholder="acme-sso"
        required
        spellCheck={false}
        autoComplete="off"
        disabled={disabled}
        styles={monospace}
        {...form.getInputProps('slug')}
      />
      {SLUG_PATTERN.test(idpSlug) && (creating || form.isDirty('slug')) && hasRedirectUri(form.values.kind) && (
        <CopyField
          label={creating ? 'Redirect URI' : 'New redirect URI'}
          value={federationRedirectUri(config.publicUrl, tenantSlug, idpSlug)}
          description={
            creating
              ? 'Register it at the provider as the redirect (callback) URI of Latchkey’s client.'
              : 'Once saved, sign-ins come back here: register it at the provider.'
          }
        />
      )}
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label="Display name"
          description="In this console and on the sign-in page"
          required
          autoComplete="off"
          disabled={disabled}
          {...form.getInputProps('displayName')}
        />
        <TextInput
          label="Button text"
          description="Empty: “Sign in with” and the display name"
          placeholder={form.values.displayName.trim() ? `Sign in with ${form.values.displayName.trim()}` : undefined}
          autoComplete="off"
          disabled={disabled}
          {...form.getInputProps('buttonText')}
        />
      </SimpleGrid>
      <TextInput
        label="Icon URL"
        description="Optional: an image shown on the button (https)"
        placeholder="https://cdn.example.com/acme.svg"
        spellCheck={false}
        autoComplete="off"
        disabled={disabled}
        styles={monospace}
        {...form.getInputProps('iconUrl')}
      />
      <Switch
        label="Enabled"
        description="Off: no button on the sign-in page and no sign-in through it; its identities stay linked."
        disabled={disabled}
        {...form.getInputProps('enabled', { type: 'checkbox' })}
      />
    </Section>
  );
}

function SecretBadge({ set, what }: { set: boolean; what: string }) {
  return (
    <Badge size="sm" variant="light" color={set ? 'teal' : 'gray'} style={{ textTransform: 'none' }}>
      {set ? `${what} set` : `No ${what.toLowerCase()}`}
    </Badge>
  );
}

/** Issuer, client, how Latchkey authenticates at the token endpoint, and scopes. */
function ConnectionSection({
  form,
  creating,
  clientSecretSet = false,
  privateKeySet = false,
  appleKeySet = false,
  disabled,
}: IdpFieldsProps) {
  const method = form.values.tokenEndpointAuthMethod;
  const kind = form.values.kind;
  const shape = kindShape(kind);
  const oauth2 = shape.endpoints;
  return (
    <Section
      title="Connection"
      description={
        oauth2
          ? 'OAuth 2 without OpenID Connect: Latchkey signs in with PKCE and state, then reads the email, its verified flag and the name from the provider’s profile API.'
          : shape.tenant
            ? 'Latchkey registers its own client in that tenant and signs in there with OpenID Connect.'
            : 'Latchkey finds the provider’s endpoints and keys from its issuer’s discovery document, and signs in with PKCE, state and nonce.'
      }
    >
      {shape.tenant && <TenantPicker form={form} creating={creating} disabled={disabled} />}
      {shape.issuer && (
        <TextInput
          label="Issuer"
          description={
            form.values.kind === 'microsoft'
              ? 'common: any Microsoft account; your directory (tenant) id or organizations in its place limits who can sign in.'
              : 'The provider’s issuer URL: {issuer}/.well-known/openid-configuration must answer.'
          }
          placeholder="https://idp.example.com"
          required
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          styles={monospace}
          {...form.getInputProps('issuer')}
        />
      )}
      {shape.clientId && (
        <TextInput
          label={kind === 'apple' ? 'Services ID' : 'Client ID'}
          description={
            kind === 'apple'
              ? 'The identifier of the Services ID, like com.acme.signin (Apple’s client id)'
              : 'What the provider calls Latchkey’s client'
          }
          placeholder={kind === 'apple' ? 'com.acme.signin' : undefined}
          required
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          styles={monospace}
          {...form.getInputProps('clientId')}
        />
      )}
      {shape.apple && <AppleKeyFields form={form} creating={creating} appleKeySet={appleKeySet} disabled={disabled} />}
      {shape.clientCredential && (
        <>
          <Select
            label="Client authentication"
            description="How Latchkey proves itself at the provider’s token endpoint"
            data={oauth2 ? AUTH_METHODS.filter((m) => m.value !== 'private_key_jwt') : AUTH_METHODS}
            allowDeselect={false}
            disabled={disabled}
            {...form.getInputProps('tokenEndpointAuthMethod')}
            onChange={(v) => v && form.setFieldValue('tokenEndpointAuthMethod', v as IdpAuthMethod)}
          />
          {method === 'private_key_jwt' ? (
            <Textarea
              label={
                <Group gap={6} component="span">
                  <span>Private key (JWK)</span>
                  {!creating && <SecretBadge set={privateKeySet} what="Key" />}
                </Group>
              }
              description={
                !creating && privateKeySet
                  ? 'Stored encrypted and never shown. Empty keeps the current key; paste a new one to replace it.'
                  : 'The private key Latchkey signs its client assertion with, as a JWK (register its public part at the provider). Stored encrypted, never shown again.'
              }
              placeholder='{"kty": "EC", "crv": "P-256", "x": "…", "y": "…", "d": "…"}'
              required={creating || !privateKeySet}
              autosize
              minRows={3}
              maxRows={10}
              spellCheck={false}
              autoComplete="off"
              disabled={disabled}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
              {...form.getInputProps('privateKeyJwk')}
            />
          ) : (
            <PasswordInput
              label={
                <Group gap={6} component="span">
                  <span>Client secret</span>
                  {!creating && <SecretBadge set={clientSecretSet} what="Secret" />}
                </Group>
              }
              description={
                !creating && clientSecretSet
                  ? 'Stored encrypted and never shown. Empty keeps the current secret; type a new one to replace it.'
                  : 'The secret the provider gave Latchkey’s client. Stored encrypted, never shown again.'
              }
              required={creating || !clientSecretSet}
              autoComplete="new-password"
              disabled={disabled}
              {...form.getInputProps('clientSecret')}
            />
          )}
        </>
      )}
      {oauth2 && <EndpointsFields form={form} disabled={disabled} />}
      <TagsInput
        label="Scopes"
        description={
          shape.openidScope
            ? 'Asked of the provider; openid is needed, email and profile give the claims below. Press Enter after each.'
            : 'Asked of the provider: enough to read the profile and the email. Press Enter after each.'
        }
        data={
          kind === 'github'
            ? ['read:user', 'user:email']
            : kind === 'facebook'
              ? ['email', 'public_profile']
              : ['openid', 'email', 'profile']
        }
        splitChars={[' ', ',']}
        disabled={disabled}
        {...form.getInputProps('scopes')}
      />
    </Section>
  );
}

/** latchkey: the other tenant, from the tenant list (system admins) or typed (a tenant admin may not list tenants). */
function TenantPicker({ form, creating, disabled }: Pick<IdpFieldsProps, 'form' | 'creating' | 'disabled'>) {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const tenants = useQuery({
    queryKey: ['tenants', 'list', 'idp-picker'],
    queryFn: ({ signal }) => api.get<Page<Tenant>>('/v1/tenants', { query: { limit: 100 }, signal }),
    enabled: creating,
    retry: false,
  });
  const description = creating
    ? 'The tenant whose users sign in here. You need tenant-wide reach there too.'
    : 'The tenant whose users sign in here (fixed: make another provider to use another tenant).';
  if (creating && tenants.isSuccess) {
    return (
      <Select
        label="Tenant"
        description={description}
        placeholder="Pick a tenant"
        required
        searchable
        nothingFoundMessage="No such tenant"
        data={tenants.data.items
          .filter((t) => t.slug !== slug)
          .map((t) => ({ value: t.slug, label: `${t.displayName} (${t.slug})` }))}
        disabled={disabled}
        {...form.getInputProps('tenant')}
        onChange={(v) => form.setFieldValue('tenant', v ?? '')}
      />
    );
  }
  return (
    <TextInput
      label="Tenant"
      description={description}
      placeholder="acme"
      required={creating}
      readOnly={!creating}
      spellCheck={false}
      autoComplete="off"
      disabled={disabled}
      styles={monospace}
      {...form.getInputProps('tenant')}
    />
  );
}

/** github, facebook: the public service, or endpoints of their own (GitHub Enterprise Server). */
function EndpointsFields({ form, disabled }: Pick<IdpFieldsProps, 'form' | 'disabled'>) {
  const url = (
    field: 'authorizationEndpoint' | 'tokenEndpoint' | 'apiBase',
    label: string,
    placeholder: string,
    description?: string,
  ) => (
    <TextInput
      label={label}
      description={description}
      placeholder={placeholder}
      required
      spellCheck={false}
      autoComplete="off"
      disabled={disabled}
      styles={monospace}
      {...form.getInputProps(`endpoints.${field}`)}
    />
  );
  return (
    <>
      <Switch
        label={form.values.kind === 'github' ? 'GitHub Enterprise Server' : 'Endpoints of my own'}
        description="Off: the public service’s endpoints. On: give where the authorization, token and profile API are."
        disabled={disabled}
        {...form.getInputProps('customEndpoints', { type: 'checkbox' })}
      />
      {form.values.customEndpoints && (
        <Stack gap="sm">
          {url('authorizationEndpoint', 'Authorization endpoint', 'https://github.acme.com/login/oauth/authorize')}
          {url('tokenEndpoint', 'Token endpoint', 'https://github.acme.com/login/oauth/access_token')}
          {url(
            'apiBase',
            'API base',
            'https://github.acme.com/api/v3',
            'Where the profile API is (GitHub: /user and /user/emails; Facebook: /me)',
          )}
        </Stack>
      )}
    </>
  );
}

/** apple: the team id, key id and .p8 key Latchkey signs its client secret with (write-only, replaced together). */
function AppleKeyFields({
  form,
  creating,
  appleKeySet = false,
  disabled,
}: Pick<IdpFieldsProps, 'form' | 'creating' | 'appleKeySet' | 'disabled'>) {
  const keeps = !creating && appleKeySet;
  return (
    <>
      <Group gap={6}>
        <Text size="sm" fw={500}>
          Sign in with Apple key
        </Text>
        {!creating && <SecretBadge set={appleKeySet} what="Key" />}
      </Group>
      <Text size="xs" c="dimmed" mt={-8}>
        {keeps
          ? 'Stored encrypted and never shown. All three empty keep the current key; to replace it, give all three.'
          : 'Latchkey signs its client secret for Apple with this key. Stored encrypted, never shown again.'}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label="Team ID"
          placeholder="A1B2C3D4E5"
          required={!keeps}
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          styles={monospace}
          {...form.getInputProps('appleTeamId')}
        />
        <TextInput
          label="Key ID"
          placeholder="ABC123DEFG"
          required={!keeps}
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          styles={monospace}
          {...form.getInputProps('appleKeyId')}
        />
      </SimpleGrid>
      <Textarea
        label="Private key (.p8)"
        description="The contents of the AuthKey_….p8 file Apple let you download once"
        placeholder={'-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----'}
        required={!keeps}
        autosize
        minRows={3}
        maxRows={8}
        spellCheck={false}
        autoComplete="off"
        disabled={disabled}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
        {...form.getInputProps('applePrivateKey')}
      />
    </>
  );
}

/** saml: the IdP's metadata, by URL or pasted, and whether its emails count as verified. */
function SamlSection({ form, creating, disabled }: IdpFieldsProps) {
  const source = form.values.samlSource;
  return (
    <Section
      title="Identity provider metadata"
      description="Latchkey reads the IdP’s entity id, single sign-on URL and signing certificates from its metadata, at each save that gives it. Once saved, the provider’s page shows what to register at the IdP."
    >
      <SegmentedControl
        aria-label="Metadata source"
        data={[
          { value: 'url', label: 'Metadata URL' },
          { value: 'xml', label: 'Paste XML' },
        ]}
        disabled={disabled}
        value={source}
        onChange={(v) => form.setFieldValue('samlSource', v as 'url' | 'xml')}
        w="fit-content"
      />
      {source === 'url' ? (
        <TextInput
          label="Metadata URL"
          description="Where the IdP publishes its metadata (https); read again at each save."
          placeholder="https://idp.acme.com/saml/metadata"
          required
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          styles={monospace}
          {...form.getInputProps('samlMetadataUrl')}
        />
      ) : (
        <Textarea
          label="Metadata XML"
          description={
            creating
              ? 'The IdP’s metadata, an md:EntityDescriptor.'
              : 'Empty keeps the metadata read before; paste new metadata to replace it (after a certificate rollover).'
          }
          placeholder={'<md:EntityDescriptor entityID="https://idp.acme.com/…">…'}
          required={creating}
          autosize
          minRows={4}
          maxRows={12}
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
          {...form.getInputProps('samlMetadataXml')}
        />
      )}
      <Switch
        label="Emails are verified"
        description="SAML has no verified flag: on, this IdP’s emails count as verified (with Trust verified emails they link to existing users)."
        color="orange"
        disabled={disabled}
        {...form.getInputProps('samlEmailVerified', { type: 'checkbox' })}
      />
    </Section>
  );
}

/** Who may sign up, link and unlink through it, and the email domains routed to it. */
function LinkingSection({ form, disabled }: IdpFieldsProps) {
  return (
    <Section
      title="Sign-up and linking"
      description="A user has identities beside their password. Linking an identity to an existing account needs proof: the account’s own sign-in in the same flow. Linking and trusted emails let the provider sign in as the tenant’s users, so turning them on needs tenant:admin."
    >
      <Switch
        label="Allow sign-up"
        description="A new person signing in through it gets an account (if the tenant allows self-registration)."
        disabled={disabled}
        {...form.getInputProps('allowSignUp', { type: 'checkbox' })}
      />
      <Switch
        label="Allow linking"
        description="Users may link it to their existing account, after signing in to that account."
        disabled={disabled}
        {...form.getInputProps('allowLink', { type: 'checkbox' })}
      />
      <Switch
        label="Allow unlinking"
        description="Users may unlink it on their account page (never their last way to sign in). Admins can always unlink."
        disabled={disabled}
        {...form.getInputProps('allowUnlink', { type: 'checkbox' })}
      />
      <Switch
        label="Trust verified emails"
        description="Link automatically to the user with the same email when the provider says the email is verified."
        color="orange"
        disabled={disabled}
        {...form.getInputProps('trustEmails', { type: 'checkbox' })}
      />
      {form.values.trustEmails && (
        <Alert
          variant="light"
          color="orange"
          icon={<IconAlertTriangle aria-hidden />}
          title="Only for a provider you control"
          p="sm"
        >
          <Text size="sm">
            Whoever the provider says owns an email can sign in as this tenant’s user with that email, admins included,
            without their password. Turn it on only for a provider that verifies every email and whose users you trust,
            like your company’s own directory; never for a provider anyone can register with.
          </Text>
        </Alert>
      )}
      <TagsInput
        label="Email domains"
        description="Home-realm discovery: an email of these domains typed on the sign-in page goes straight to this provider. Press Enter after each."
        placeholder="acme.com"
        splitChars={[' ', ',']}
        disabled={disabled}
        {...form.getInputProps('domains')}
        onChange={(domains) =>
          form.setFieldValue(
            'domains',
            domains.map((d) => d.trim().toLowerCase().replace(/^@/, '')),
          )
        }
      />
    </Section>
  );
}

function ClaimsSection({ form, disabled }: IdpFieldsProps) {
  const claim = (field: keyof IdpFormValues['claims'], label: string, placeholder: string, description?: string) => (
    <TextInput
      label={label}
      description={description}
      placeholder={placeholder}
      required={field !== 'roles'}
      spellCheck={false}
      autoComplete="off"
      disabled={disabled}
      styles={monospace}
      {...form.getInputProps(`claims.${field}`)}
    />
  );
  return (
    <Section
      title={form.values.kind === 'saml' ? 'Attributes' : 'Claims'}
      description={
        form.values.kind === 'saml'
          ? 'Which attribute of the SAML assertion gives what (names as the IdP sends them, like a URI).'
          : 'Which claim of the provider’s ID token or userinfo gives what.'
      }
    >
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {claim('email', 'Email claim', 'email')}
        {claim('emailVerified', 'Email verified claim', 'email_verified')}
        {claim('name', 'Name claim', 'name')}
        {claim('roles', 'Roles claim', 'groups', 'Empty: no role mapping. A claim holding a list of strings.')}
      </SimpleGrid>
    </Section>
  );
}

/** Upstream group → tenant role rows, applied at each sign-in (only mapped roles are added and removed). */
function RoleMappingsSection({ form, disabled }: IdpFieldsProps) {
  const { slug } = useCurrentTenant();
  const roles = useRolesQuery(slug);
  const roleOptions = (roles.data ?? []).map((r) => ({ value: r.name, label: r.name }));
  const listError = typeof form.errors.roleMappings === 'string' ? form.errors.roleMappings : null;
  return (
    <Section
      title="Role mappings"
      description="At each sign-in, a user whose roles claim holds an upstream value gets the role; a mapped role whose value is gone is taken away. Other roles are left alone."
    >
      {form.values.roleMappings.length === 0 && (
        <Text size="sm" c="dimmed">
          No role mappings: signing in through it grants no roles.
        </Text>
      )}
      <Stack gap="xs" role="group" aria-label="Role mappings">
        {form.values.roleMappings.map((m, i) => (
          <Group key={m.key} align="flex-start" gap="xs" wrap="nowrap">
            <TextInput
              aria-label={`Mapping ${i + 1} upstream value`}
              placeholder="Upstream group, like admins"
              spellCheck={false}
              autoComplete="off"
              disabled={disabled}
              style={{ flex: '1 1 50%', minWidth: 0 }}
              styles={monospace}
              {...form.getInputProps(`roleMappings.${i}.upstream`)}
            />
            <Select
              aria-label={`Mapping ${i + 1} role`}
              placeholder={roles.isPending ? 'Loading roles…' : 'Role'}
              data={roleOptions}
              searchable
              nothingFoundMessage="No such role"
              disabled={disabled}
              style={{ flex: '1 1 50%', minWidth: 0 }}
              {...form.getInputProps(`roleMappings.${i}.role`)}
              onChange={(v) => form.setFieldValue(`roleMappings.${i}.role`, v ?? '')}
            />
            {!disabled && (
              <Tooltip label="Remove mapping">
                <ActionIcon
                  variant="subtle"
                  color="red"
                  size="lg"
                  aria-label={`Remove mapping ${i + 1}${m.upstream ? ` (${m.upstream})` : ''}`}
                  onClick={() => form.removeListItem('roleMappings', i)}
                >
                  <IconTrash size={16} aria-hidden />
                </ActionIcon>
              </Tooltip>
            )}
          </Group>
        ))}
      </Stack>
      {listError && (
        <Text size="xs" c="red" role="alert">
          {listError}
        </Text>
      )}
      {!disabled && (
        <Button
          variant="light"
          size="xs"
          w="fit-content"
          leftSection={<IconPlus size={14} aria-hidden />}
          onClick={() => form.insertListItem('roleMappings', roleMappingRow())}
        >
          Add mapping
        </Button>
      )}
    </Section>
  );
}
