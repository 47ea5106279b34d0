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
import { useRolesQuery } from '../../api/queries';
import type { IdpAuthMethod, IdpKind } from '../../api/types';
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
  disabled?: boolean;
}

const monospace = { input: { fontFamily: 'var(--mantine-font-family-monospace)' } };

export function IdpFields(props: IdpFieldsProps) {
  return (
    <>
      <AppearanceSection {...props} />
      <ConnectionSection {...props} />
      <LinkingSection {...props} />
      <ClaimsSection {...props} />
      <RoleMappingsSection {...props} />
    </>
  );
}

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
            description="Google and Microsoft fill in their issuer; both are OpenID Connect."
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
      {SLUG_PATTERN.test(idpSlug) && (creating || form.isDirty('slug')) && (
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
  disabled,
}: IdpFieldsProps) {
  const method = form.values.tokenEndpointAuthMethod;
  return (
    <Section
      title="Connection"
      description="Latchkey finds the provider’s endpoints and keys from its issuer’s discovery document, and signs in with PKCE, state and nonce."
    >
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
      <TextInput
        label="Client ID"
        description="What the provider calls Latchkey’s client"
        required
        spellCheck={false}
        autoComplete="off"
        disabled={disabled}
        styles={monospace}
        {...form.getInputProps('clientId')}
      />
      <Select
        label="Client authentication"
        description="How Latchkey proves itself at the provider’s token endpoint"
        data={AUTH_METHODS}
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
      <TagsInput
        label="Scopes"
        description="Asked of the provider; openid is needed, email and profile give the claims below. Press Enter after each."
        data={['openid', 'email', 'profile']}
        splitChars={[' ', ',']}
        disabled={disabled}
        {...form.getInputProps('scopes')}
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
    <Section title="Claims" description="Which claim of the provider’s ID token or userinfo gives what.">
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
