/**
 * The ticket type form: its values made of a type, checked as the API checks them, and turned into
 * the body of a create or of a PATCH that sends only what changed (the welcome merged field by field).
 */
import type { TicketType, TicketTypeInput, TicketTypePatch, TicketWelcome } from '../../api/types';
import type { FieldErrorOptions } from '../../components/fieldErrors';

export interface TicketTypeFormValues {
  name: string;
  description: string;
  enabled: boolean;
  allowUserCreation: boolean;
  /** Whole hours, 1 to 8,760 (edited as hours or days). */
  validityHours: number | '';
  roles: string[];
  /** Empty: none (the account page after use; no link on an invalid ticket's page). */
  postUseUrl: string;
  postInvalidUrl: string;
  welcome: TicketWelcome;
}

export const VALIDITY_MAX_HOURS = 8760;
export const DEFAULT_VALIDITY_HOURS = 168;

export const emptyTicketTypeForm = (): TicketTypeFormValues => ({
  name: '',
  description: '',
  enabled: true,
  allowUserCreation: false,
  validityHours: DEFAULT_VALIDITY_HOURS,
  roles: [],
  postUseUrl: '',
  postInvalidUrl: '',
  welcome: { title: '', body: '', okText: '', agreementRequired: false },
});

export function ticketTypeToForm(type: TicketType): TicketTypeFormValues {
  return {
    name: type.name,
    description: type.description,
    enabled: type.enabled,
    allowUserCreation: type.allowUserCreation,
    validityHours: type.validityHours,
    roles: [...type.roles].sort(),
    postUseUrl: type.postUseUrl ?? '',
    postInvalidUrl: type.postInvalidUrl ?? '',
    welcome: { ...type.welcome },
  };
}

const isLocalHost = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

/** The API's rule for where a type may lead: https (http on localhost), no fragment, no credentials. */
export function validateTicketUrl(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'A full URL like https://app.example.com/welcome';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname))) {
    return 'https, or http on localhost and 127.0.0.1';
  }
  if (url.hash || v.includes('#')) return 'No fragment (#…)';
  if (url.username || url.password) return 'No user name or password in the URL';
  if (v.length > 2048) return 'At most 2,048 characters';
  return null;
}

export function validateValidityHours(value: number | ''): string | null {
  if (value === '') return 'Required';
  if (!Number.isInteger(value)) return 'Whole hours';
  if (value < 1 || value > VALIDITY_MAX_HOURS) return '1 hour to 365 days';
  return null;
}

export const ticketTypeValidation = {
  name: (v: string) =>
    !v.trim() ? 'Name the type after who it invites' : v.trim().length > 200 ? 'At most 200 characters' : null,
  description: (v: string) => (v.length > 1000 ? 'At most 1,000 characters' : null),
  validityHours: validateValidityHours,
  roles: (v: string[]) => (v.length > 50 ? 'At most 50 roles' : null),
  postUseUrl: validateTicketUrl,
  postInvalidUrl: validateTicketUrl,
  welcome: {
    title: (v: string) => (v.trim().length > 200 ? 'At most 200 characters' : null),
    body: (v: string) => (v.length > 10_000 ? 'At most 10,000 characters' : null),
    okText: (v: string) => (v.trim().length > 100 ? 'At most 100 characters' : null),
  },
};

const urlOrNull = (v: string) => v.trim() || null;
const hours = (v: number | '') => (v === '' ? DEFAULT_VALIDITY_HOURS : v);

function welcomeOf(values: TicketTypeFormValues): TicketWelcome {
  return {
    title: values.welcome.title.trim(),
    body: values.welcome.body,
    okText: values.welcome.okText.trim(),
    agreementRequired: values.welcome.agreementRequired,
  };
}

export function createTicketTypeBody(values: TicketTypeFormValues): TicketTypeInput {
  return {
    name: values.name.trim(),
    description: values.description,
    enabled: values.enabled,
    allowUserCreation: values.allowUserCreation,
    validityHours: hours(values.validityHours),
    roles: [...values.roles].sort(),
    postUseUrl: urlOrNull(values.postUseUrl),
    postInvalidUrl: urlOrNull(values.postInvalidUrl),
    welcome: welcomeOf(values),
  };
}

/** The PATCH body: only what differs from what was loaded; of the welcome, only the fields that changed. */
export function ticketTypePatchBody(initial: TicketTypeFormValues, values: TicketTypeFormValues): TicketTypePatch {
  const before = createTicketTypeBody(initial);
  const after = createTicketTypeBody(values);
  const body: TicketTypePatch = {};
  if (after.name !== before.name) body.name = after.name;
  if (after.description !== before.description) body.description = after.description;
  if (after.enabled !== before.enabled) body.enabled = after.enabled;
  if (after.allowUserCreation !== before.allowUserCreation) body.allowUserCreation = after.allowUserCreation;
  if (after.validityHours !== before.validityHours) body.validityHours = after.validityHours;
  if (JSON.stringify(after.roles) !== JSON.stringify(before.roles)) body.roles = after.roles;
  if (after.postUseUrl !== before.postUseUrl) body.postUseUrl = after.postUseUrl;
  if (after.postInvalidUrl !== before.postInvalidUrl) body.postInvalidUrl = after.postInvalidUrl;
  const welcome: Partial<TicketWelcome> = {};
  const w0 = before.welcome as TicketWelcome;
  const w1 = after.welcome as TicketWelcome;
  for (const key of ['title', 'body', 'okText', 'agreementRequired'] as const) {
    if (w1[key] !== w0[key]) (welcome as Record<string, unknown>)[key] = w1[key];
  }
  if (Object.keys(welcome).length > 0) body.welcome = welcome;
  return body;
}

/** Where the API's problems go: a taken name beside the name, unknown roles beside the roles. */
export const ticketTypeErrorOptions: FieldErrorOptions = {
  fields: [
    'name',
    'description',
    'enabled',
    'allowUserCreation',
    'validityHours',
    'roles',
    'postUseUrl',
    'postInvalidUrl',
    'welcome.title',
    'welcome.body',
    'welcome.okText',
    'welcome.agreementRequired',
  ],
  codes: { ticket_type_exists: 'name', unknown_role: 'roles' },
};
