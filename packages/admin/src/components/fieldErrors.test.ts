import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { apiFieldErrors, applyApiErrors, pointerToPath } from './fieldErrors';

const validation = (details: unknown) => new ApiError(400, 'validation_failed', 'Invalid body', details, 'req-1');

describe('pointerToPath', () => {
  it('turns JSON pointers into form paths, unescaping ~1 and ~0', () => {
    expect(pointerToPath('/settings/lifetimes/accessTokenSeconds')).toBe('settings.lifetimes.accessTokenSeconds');
    expect(pointerToPath('/allowedOrigins/2')).toBe('allowedOrigins.2');
    expect(pointerToPath('/attributes/a~1b~0c')).toBe('attributes.a/b~c');
    expect(pointerToPath('/')).toBe('');
  });
});

describe('apiFieldErrors', () => {
  it('puts each validation problem on its field', () => {
    const err = validation([
      { in: 'body', path: '/email', message: 'must be an email address' },
      { in: 'body', path: '/displayName', message: 'Too big' },
    ]);
    expect(apiFieldErrors(err, { fields: ['email', 'displayName'] })).toEqual({
      fields: { email: 'must be an email address', displayName: 'Too big' },
      other: [],
    });
  });

  it('maps nested settings paths and list items to the nearest known field, naming the item', () => {
    const err = new ApiError(400, 'invalid_settings', 'Invalid settings', [
      { path: '/settings/lifetimes/accessTokenSeconds', message: 'must not exceed refreshTokenIdleSeconds' },
      { path: '/settings/allowedOrigins/1', message: 'must be an origin' },
    ]);
    const { fields, other } = apiFieldErrors(err, {
      fields: ['settings.lifetimes.accessTokenSeconds', 'settings.allowedOrigins'],
    });
    expect(fields).toEqual({
      'settings.lifetimes.accessTokenSeconds': 'must not exceed refreshTokenIdleSeconds',
      'settings.allowedOrigins': 'Item 2: must be an origin',
    });
    expect(other).toEqual([]);
  });

  it('names the key of an object field too (attributes.plan)', () => {
    const err = validation([{ path: '/attributes/plan', message: 'Invalid input' }]);
    expect(apiFieldErrors(err, { fields: ['attributes'] }).fields).toEqual({ attributes: 'plan: Invalid input' });
  });

  it('strips a prefix the form does not have', () => {
    const err = validation([{ path: '/settings/passwordMinLength', message: 'Too small' }]);
    expect(apiFieldErrors(err, { stripPrefix: 'settings', fields: ['passwordMinLength'] }).fields).toEqual({
      passwordMinLength: 'Too small',
    });
  });

  it('keeps problems that match no field (or the body root) for the alert', () => {
    const err = validation([
      { path: '/', message: 'Unrecognized key: "nickname"' },
      { path: '/unknown', message: 'nope' },
      { path: '/email', message: 'bad' },
    ]);
    const { fields, other } = apiFieldErrors(err, { fields: ['email'] });
    expect(fields).toEqual({ email: 'bad' });
    expect(other).toEqual(['Unrecognized key: "nickname"', 'unknown: nope']);
  });

  it('joins several problems of one field', () => {
    const err = validation([
      { path: '/password', message: 'too short' },
      { path: '/password', message: 'too common' },
      { path: '/password', message: 'too common' },
    ]);
    expect(apiFieldErrors(err, { fields: ['password'] }).fields.password).toBe('too short; too common');
  });

  it('maps codes without a path to their field', () => {
    const taken = new ApiError(409, 'email_taken', 'A user with this email exists');
    expect(apiFieldErrors(taken, { fields: ['email'], codes: { email_taken: 'email' } })).toEqual({
      fields: { email: 'A user with this email exists' },
      other: [],
    });
    const common = new ApiError(400, 'password_too_common', 'The password is one of the most commonly used passwords');
    expect(apiFieldErrors(common, { codes: { password_too_common: 'password' } }).fields).toEqual({
      password: 'The password is one of the most commonly used passwords',
    });
  });

  it('reads {"field": …} details', () => {
    const err = new ApiError(400, 'invalid_client_settings', 'This kind of client needs at least one redirect URI', {
      field: 'redirectUris',
    });
    expect(apiFieldErrors(err, { fields: ['redirectUris'] }).fields).toEqual({
      redirectUris: 'This kind of client needs at least one redirect URI',
    });
  });

  it('anything else is one message for the alert', () => {
    expect(apiFieldErrors(new ApiError(403, 'forbidden', 'Not allowed'), { fields: ['email'] })).toEqual({
      fields: {},
      other: ['Not allowed'],
    });
    expect(apiFieldErrors(new Error('offline')).other).toEqual(['offline']);
  });

  it('applyApiErrors sets the form errors and answers the rest', () => {
    let set: Record<string, string> | null = null;
    const rest = applyApiErrors(
      { setErrors: (e) => (set = e) },
      validation([
        { path: '/email', message: 'bad' },
        { path: '/', message: 'root problem' },
      ]),
      { fields: ['email'] },
    );
    expect(set).toEqual({ email: 'bad' });
    expect(rest).toEqual(['root problem']);
  });
});
