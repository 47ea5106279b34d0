import { describe, expect, it } from 'vitest';
import type { AuditRef } from '../../api/types';
import { detailFacts, refLabel, refLink, summary } from './auditText';

const ref = (over: Partial<AuditRef>): AuditRef => ({
  type: 'user',
  id: 'usr_1',
  name: 'ada@example.test',
  tenantSlug: 'acme',
  ...over,
});
const base = (slug: string) => (slug === 'other' ? null : `/tenants/${slug}`);

describe('audit text', () => {
  it('names actors and targets by email or name, the id only once it is gone', () => {
    expect(refLabel(ref({}))).toBe('ada@example.test');
    expect(refLabel(ref({ name: null }))).toBe('usr_1');
    expect(refLabel({ type: 'system', id: null, name: null })).toBe('Latchkey');
  });

  it('links each kind to its screen, in the tenant it lives in, when this console can open it', () => {
    expect(refLink(ref({}), base)).toBe('/tenants/acme/users/usr_1');
    expect(refLink(ref({ type: 'client', id: 'cli_1', name: 'Billing' }), base)).toBe(
      '/tenants/acme/applications/cli_1',
    );
    expect(refLink(ref({ type: 'role', id: 'rol_1', name: 'tenant:admin' }), base)).toBe(
      '/tenants/acme/roles?q=tenant%3Aadmin',
    );
    expect(refLink(ref({ type: 'api_key', id: 'key_1', name: 'ci' }), base)).toBe('/tenants/acme/api-keys');
    expect(refLink(ref({ type: 'api', id: 'api_1', name: 'Orders' }), base)).toBe('/tenants/acme/apis');
    expect(refLink(ref({ type: 'tenant', id: 'ten_1', name: 'Acme' }), base)).toBe('/tenants/acme');
    expect(refLink(ref({ type: 'ticket_type', id: 'ttp_1', name: 'Partners' }), base)).toBe(
      '/tenants/acme/tickets/ttp_1',
    );
    expect(refLink(ref({ type: 'identity_provider', id: 'idp_1', name: 'Acme SSO' }), base)).toBe(
      '/tenants/acme/identity-providers/idp_1',
    );
    // A system admin acting in a tenant: linked to the system tenant's screens.
    expect(refLink(ref({ tenantSlug: 'system' }), base)).toBe('/tenants/system/users/usr_1');
    // Gone, unknown, or in a tenant this console cannot open: no link.
    expect(refLink(ref({ name: null, tenantSlug: null }), base)).toBeNull();
    expect(refLink(ref({ tenantSlug: 'other' }), base)).toBeNull();
    expect(refLink(ref({ type: 'mystery' }), base)).toBeNull();
  });

  it('reads details as a key/value list, not JSON', () => {
    expect(detailFacts({ fields: ['displayName', 'status'], withPassword: true, roles: [], status: 403 })).toEqual([
      { label: 'Changed', value: 'display name, status' },
      { label: 'Initial password', value: 'yes' },
      { label: 'Roles', value: 'none' },
      { label: 'Answer', value: '403 Forbidden' },
    ]);
    expect(detailFacts({ reason: 'wrong_password', someNewKey: 'x' })).toEqual([
      { label: 'Reason', value: 'wrong password' },
      { label: 'Some new key', value: 'x' },
    ]);
    expect(detailFacts(null)).toEqual([]);
  });

  it('sums an event up in a sentence', () => {
    expect(summary({ action: 'user.update', outcome: 'success', details: { fields: ['displayName'] } })).toBe(
      'Changed display name',
    );
    expect(summary({ action: 'user.role.grant', outcome: 'success', details: { role: 'support' } })).toBe(
      'Granted role support',
    );
    expect(summary({ action: 'user.delete', outcome: 'failure', details: { status: 412, url: '/x' } })).toBe(
      'Refused: 412 Stale version',
    );
    expect(summary({ action: 'login.password', outcome: 'failure', details: { reason: 'account_locked' } })).toBe(
      'Refused: account locked after too many failures',
    );
    expect(
      summary({
        action: 'user.identity.unlink',
        outcome: 'success',
        details: { identityId: 'ident_1', provider: 'acme' },
      }),
    ).toBe('Unlinked the identity at acme');
    expect(summary({ action: 'user.sessions.end', outcome: 'success', details: { sessions: 1 } })).toBe(
      'Ended 1 session',
    );
    expect(
      summary({
        action: 'ticket.issue',
        outcome: 'success',
        details: { onDuplicate: 'skip', issued: 3, reissued: 0, skipped: 1 },
      }),
    ).toBe('Issued 3, reissued 0, skipped 1');
    expect(
      summary({ action: 'ticket.disable', outcome: 'success', details: { by: 'ids', asked: 2, disabled: 1 } }),
    ).toBe('Disabled 1 of 2');
    expect(summary({ action: 'something.new', outcome: 'success', details: null })).toBeNull();
  });
});
