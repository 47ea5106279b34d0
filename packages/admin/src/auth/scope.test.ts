import { describe, expect, it } from 'vitest';
import {
  issuerUrl,
  postLogoutRedirectUri,
  redirectUri,
  routerPathOf,
  safeReturnTo,
  scopeFromPathname,
  systemScope,
} from './scope';

const config = { publicUrl: 'https://id.example.com', adminApi: 'https://id.example.com/api' };
const acme = scopeFromPathname('/admin/t/acme/users');

describe('console scope', () => {
  it('is the tenant console under /admin/t/{slug}, else the system console', () => {
    expect(acme).toEqual({ kind: 'tenant', authTenant: 'acme', prefix: '/t/acme' });
    expect(scopeFromPathname('/admin/t/acme')).toEqual(acme);
    expect(scopeFromPathname('/admin/')).toEqual(systemScope);
    expect(scopeFromPathname('/admin/tenants/acme/users')).toEqual(systemScope);
    // Not a slug: the system console (which shows "not found"), never a strange issuer.
    expect(scopeFromPathname('/admin/t/..%2Fevil/users')).toEqual(systemScope);
    expect(scopeFromPathname('/admin/t/A/users')).toEqual(systemScope);
    expect(scopeFromPathname('/admin/t/system/users')).toEqual(systemScope);
  });

  it('derives issuer and redirect URIs from config.json', () => {
    expect(issuerUrl(config, systemScope).href).toBe('https://id.example.com/t/system');
    expect(issuerUrl(config, acme).href).toBe('https://id.example.com/t/acme');
    expect(redirectUri(config, systemScope)).toBe('https://id.example.com/admin/callback');
    expect(redirectUri(config, acme)).toBe('https://id.example.com/admin/t/acme/callback');
    expect(postLogoutRedirectUri(config, systemScope)).toBe('https://id.example.com/admin/');
    expect(postLogoutRedirectUri(config, acme)).toBe('https://id.example.com/admin/t/acme/');
  });
});

describe('safeReturnTo', () => {
  it('keeps a path inside the console, with its query and hash', () => {
    expect(safeReturnTo('/tenants/acme/users?q=ad#x', systemScope)).toBe('/tenants/acme/users?q=ad#x');
    expect(safeReturnTo('/t/acme/users?status=disabled', acme)).toBe('/t/acme/users?status=disabled');
    expect(safeReturnTo('/t/acme', acme)).toBe('/t/acme');
  });

  it('sends anything else home: other origins, protocol-relative, other consoles, the callback', () => {
    for (const bad of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '',
      null,
      undefined,
      '/callback',
      '/t/other/users',
    ]) {
      expect(safeReturnTo(bad, systemScope), String(bad)).toBe('/');
    }
    expect(safeReturnTo('/tenants/acme/users', acme)).toBe('/t/acme');
    expect(safeReturnTo('/t/acme/callback?code=x', acme)).toBe('/t/acme');
    expect(safeReturnTo('/t/acmeevil/users', acme)).toBe('/t/acme');
  });

  it('reads the router path of a browser location', () => {
    expect(routerPathOf({ pathname: '/admin/tenants/acme', search: '?q=1', hash: '#h' })).toBe('/tenants/acme?q=1#h');
    expect(routerPathOf({ pathname: '/admin', search: '', hash: '' })).toBe('/');
  });
});
