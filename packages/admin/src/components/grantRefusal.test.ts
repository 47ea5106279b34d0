import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { apiFieldErrors } from './fieldErrors';
import { grantRefusalDetails, grantRefusalLines } from './grantRefusal';

const refusal = (details: unknown) =>
  new ApiError(
    403,
    'forbidden',
    'Changing this role needs every right it would hand out, and the caller holds less',
    details,
  );

describe('a refusal of the granting rule', () => {
  it('names each kind of thing missing', () => {
    const details = grantRefusalDetails(
      refusal({
        roles: ['auditor'],
        missing: {
          tenantWide: true,
          permissions: ['roles:write', 'users:write'],
          apiPermissions: [
            { api: 'https://orders.test', scope: 'orders:write' },
            { api: 'https://orders.test', scope: 'orders:refund' },
            { api: 'https://billing.test', scope: 'pay' },
          ],
        },
      }),
    );
    if (!details) throw new Error('not read as a refusal');
    expect(grantRefusalLines(details, (id) => (id === 'https://orders.test' ? 'Orders' : id))).toEqual([
      'It reaches everything in this tenant (tenant:admin), which you do not hold.',
      'Admin permissions you do not hold: roles:write, users:write',
      'Scopes of Orders (https://orders.test) you do not hold: orders:write, orders:refund',
      'Scopes of https://billing.test you do not hold: pay',
      'Roles carrying more than you hold: auditor',
    ]);
  });
  it('goes to the form’s alert after the message', () => {
    const error = refusal({ missing: { systemWide: true } });
    expect(apiFieldErrors(error, { fields: ['name'] }).other).toEqual([
      error.message,
      'It reaches every tenant (system:admin): only a system admin can hand that out.',
    ]);
  });
  it('is only a 403 forbidden with details.missing', () => {
    expect(grantRefusalDetails(new ApiError(403, 'forbidden', 'No'))).toBeNull();
    expect(grantRefusalDetails(new ApiError(400, 'forbidden', 'No', { missing: {} }))).toBeNull();
    expect(grantRefusalDetails(new Error('x'))).toBeNull();
  });
});
