import { describe, expect, it } from 'vitest';
import type { TicketType } from '../../api/types';
import {
  createTicketTypeBody,
  emptyTicketTypeForm,
  ticketTypePatchBody,
  ticketTypeToForm,
  validateTicketUrl,
  validateValidityHours,
} from './ticketTypeForm';

const partners: TicketType = {
  id: 'ttp_1',
  name: 'Partners',
  description: 'Partner onboarding',
  enabled: true,
  allowUserCreation: false,
  validityHours: 168,
  roles: ['viewer', 'member'],
  postUseUrl: 'https://app.example.com/welcome',
  postInvalidUrl: null,
  welcome: { title: 'Welcome', body: 'Hello', okText: '', agreementRequired: false },
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 3,
};

describe('ticket type form', () => {
  it('creates with every field, URLs empty as null, names and texts trimmed', () => {
    const values = {
      ...emptyTicketTypeForm(),
      name: '  Beta testers ',
      roles: ['b', 'a'],
      postUseUrl: ' ',
      welcome: { title: ' Hi ', body: ' keep spaces ', okText: ' Go ', agreementRequired: true },
    };
    expect(createTicketTypeBody(values)).toEqual({
      name: 'Beta testers',
      description: '',
      enabled: true,
      allowUserCreation: false,
      validityHours: 168,
      roles: ['a', 'b'],
      postUseUrl: null,
      postInvalidUrl: null,
      welcome: { title: 'Hi', body: ' keep spaces ', okText: 'Go', agreementRequired: true },
    });
  });

  it('patches only what changed, and of the welcome only the changed fields', () => {
    const initial = ticketTypeToForm(partners);
    expect(ticketTypePatchBody(initial, initial)).toEqual({});
    // Roles in another order are the same roles.
    expect(ticketTypePatchBody(initial, { ...initial, roles: ['viewer', 'member'] })).toEqual({});
    expect(
      ticketTypePatchBody(initial, {
        ...initial,
        enabled: false,
        validityHours: 48,
        postUseUrl: '',
        postInvalidUrl: 'https://www.example.com/help',
        welcome: { ...initial.welcome, agreementRequired: true },
      }),
    ).toEqual({
      enabled: false,
      validityHours: 48,
      postUseUrl: null,
      postInvalidUrl: 'https://www.example.com/help',
      welcome: { agreementRequired: true },
    });
    expect(ticketTypePatchBody(initial, { ...initial, name: 'Partners 2', roles: [] })).toEqual({
      name: 'Partners 2',
      roles: [],
    });
  });

  it('checks URLs as the API does: https, http only on localhost, no fragment or credentials', () => {
    expect(validateTicketUrl('')).toBeNull();
    expect(validateTicketUrl('https://app.example.com/welcome?x=1')).toBeNull();
    expect(validateTicketUrl('http://localhost:3000/x')).toBeNull();
    expect(validateTicketUrl('http://127.0.0.1/x')).toBeNull();
    expect(validateTicketUrl('http://app.example.com/')).toBe('https, or http on localhost and 127.0.0.1');
    expect(validateTicketUrl('https://app.example.com/#top')).toBe('No fragment (#…)');
    expect(validateTicketUrl('https://u:p@app.example.com/')).toBe('No user name or password in the URL');
    expect(validateTicketUrl('app.example.com')).toBe('A full URL like https://app.example.com/welcome');
    expect(validateTicketUrl('javascript:alert(1)')).toBe('https, or http on localhost and 127.0.0.1');
  });

  it('takes whole hours from 1 to a year', () => {
    expect(validateValidityHours(1)).toBeNull();
    expect(validateValidityHours(8760)).toBeNull();
    expect(validateValidityHours(0)).toBe('1 hour to 365 days');
    expect(validateValidityHours(8761)).toBe('1 hour to 365 days');
    expect(validateValidityHours(1.5)).toBe('Whole hours');
    expect(validateValidityHours('')).toBe('Required');
  });
});
