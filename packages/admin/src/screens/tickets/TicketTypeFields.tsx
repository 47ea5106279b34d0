/** Fields of the ticket type form, shared by the create modal and the type's settings. */
import { Checkbox, MultiSelect, Switch, Textarea, TextInput } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { useRolesQuery } from '../../api/queries';
import { useCurrentTenant } from '../../app/tenant';
import { DurationInput } from '../../components/DurationInput';
import type { TicketTypeFormValues } from './ticketTypeForm';

type Form = UseFormReturnType<TicketTypeFormValues>;

export function NameField({ form, autoFocus }: { form: Form; autoFocus?: boolean }) {
  return (
    <TextInput
      label="Name"
      description="Unique in this tenant, like “Partner onboarding” or “Beta testers”"
      required
      autoComplete="off"
      data-autofocus={autoFocus || undefined}
      {...form.getInputProps('name')}
    />
  );
}

export function DescriptionField({ form }: { form: Form }) {
  return (
    <Textarea
      label="Description"
      description="For admins: what the type is for"
      autosize
      minRows={2}
      maxRows={6}
      {...form.getInputProps('description')}
    />
  );
}

/** Roles of the tenant granted to whoever uses a ticket. */
export function RolesField({ form }: { form: Form }) {
  const { slug } = useCurrentTenant();
  const roles = useRolesQuery(slug);
  return (
    <MultiSelect
      label="Roles"
      description="Granted to whoever uses a ticket of this type. Giving roles needs every right they carry."
      placeholder={roles.isPending ? 'Loading roles…' : 'Pick roles'}
      data={(roles.data ?? []).map((r) => ({ value: r.name, label: r.name }))}
      searchable
      clearable
      nothingFoundMessage="No such role"
      {...form.getInputProps('roles')}
    />
  );
}

/** Whole hours, edited as hours or days (the DurationInput works in seconds). */
export function ValidityField({ form }: { form: Form }) {
  const input = form.getInputProps('validityHours');
  const hours = input.value as number | '';
  return (
    <DurationInput
      label="Each ticket works for"
      description="From when it is issued: 1 hour to 365 days. A change applies to tickets issued after it."
      units={['days', 'hours']}
      min={3600}
      max={8760 * 3600}
      value={typeof hours === 'number' ? hours * 3600 : ''}
      onChange={(seconds) => input.onChange(typeof seconds === 'number' ? seconds / 3600 : '')}
      onBlur={input.onBlur}
      onFocus={input.onFocus}
      error={input.error}
    />
  );
}

export function AllowUserCreationField({ form }: { form: Form }) {
  return (
    <Switch
      label="May create an account"
      description="Whoever opens a ticket may register a new account with it, even where self-registration is off. Off: only an existing account can use it."
      {...form.getInputProps('allowUserCreation', { type: 'checkbox' })}
    />
  );
}

export function EnabledField({ form }: { form: Form }) {
  return (
    <Switch
      label="Enabled"
      description="A disabled type issues nothing, and its tickets open as disabled until it is enabled again."
      {...form.getInputProps('enabled', { type: 'checkbox' })}
    />
  );
}

export function UrlFields({ form }: { form: Form }) {
  const mono = { input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } };
  return (
    <>
      <TextInput
        label="After use, go to"
        description="Empty: the user’s account page. The origin must be one of the tenant’s allowed origins (Settings), or Latchkey’s own."
        placeholder="https://app.example.com/welcome"
        spellCheck={false}
        autoComplete="off"
        styles={mono}
        {...form.getInputProps('postUseUrl')}
      />
      <TextInput
        label="A used, expired or disabled ticket links to"
        description="Empty: no link. The same rule as above."
        placeholder="https://www.example.com/contact"
        spellCheck={false}
        autoComplete="off"
        styles={mono}
        {...form.getInputProps('postInvalidUrl')}
      />
    </>
  );
}

export function WelcomeFields({ form }: { form: Form }) {
  return (
    <>
      <TextInput
        label="Welcome title"
        description="The page’s heading and the invitation email’s first line. Empty: the page’s own words, in the reader’s language."
        {...form.getInputProps('welcome.title')}
      />
      <Textarea
        label="Welcome text"
        description="Plain text under the heading; line breaks are kept."
        autosize
        minRows={3}
        maxRows={12}
        {...form.getInputProps('welcome.body')}
      />
      <TextInput
        label="Button label"
        description="Empty: the page’s own, in the reader’s language."
        {...form.getInputProps('welcome.okText')}
      />
      <Checkbox
        label="Ask to tick “I agree” before going on"
        {...form.getInputProps('welcome.agreementRequired', { type: 'checkbox' })}
      />
    </>
  );
}
