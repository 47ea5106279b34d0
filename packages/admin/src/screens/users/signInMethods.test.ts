import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import { unlinkRefusal } from './signInMethods';

describe('unlink refusal', () => {
  it('says what to do when the identity is the last way in, keeping code and request id', () => {
    const refused = unlinkRefusal(
      new ApiError(409, 'last_sign_in_method', 'The user would have no way to sign in', undefined, 'req-1'),
    );
    expect(refused).toMatchObject({ status: 409, code: 'last_sign_in_method', requestId: 'req-1' });
    expect(refused?.message).toBe(
      'The user would have no way to sign in. Set a password for them first, or let them link another way to sign in.',
    );
  });

  it('leaves other errors alone', () => {
    expect(unlinkRefusal(new ApiError(404, 'identity_not_found', 'No such identity'))).toBeNull();
    expect(unlinkRefusal(new Error('network'))).toBeNull();
  });
});
