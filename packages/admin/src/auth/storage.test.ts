import { describe, expect, it } from 'vitest';
import { refreshDelay } from './AuthClient';
import { AuthStorage, PENDING_MAX_AGE_MS, type StoredSession } from './storage';

class MemoryStorage implements Storage {
  readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
}

const session: StoredSession = {
  accessToken: 'at',
  refreshToken: 'rt',
  idToken: 'id',
  expiresAt: 1_000_000,
  expiresIn: 3600,
  user: { sub: 'usr_1', email: 'a@example.test', name: null },
};
const pending = { state: 's', nonce: 'n', codeVerifier: 'v', returnTo: '/x', startedAt: 1_000 };

describe('AuthStorage', () => {
  it('keeps sessions per tenant', () => {
    const raw = new MemoryStorage();
    new AuthStorage(raw, 'system').writeSession(session);
    expect(new AuthStorage(raw, 'system').readSession()).toEqual(session);
    expect(new AuthStorage(raw, 'acme').readSession()).toBeNull();
    new AuthStorage(raw, 'system').clearSession();
    expect(new AuthStorage(raw, 'system').readSession()).toBeNull();
  });

  it('treats a damaged or foreign session as none', () => {
    const raw = new MemoryStorage();
    const store = new AuthStorage(raw, 'system');
    raw.setItem('latchkey.admin.session.system', '{oops');
    expect(store.readSession()).toBeNull();
    raw.setItem('latchkey.admin.session.system', JSON.stringify({ ...session, accessToken: 42 }));
    expect(store.readSession()).toBeNull();
    raw.setItem('latchkey.admin.session.system', JSON.stringify({ ...session, user: null }));
    expect(store.readSession()).toBeNull();
  });

  it('hands out a pending sign-in once, and not when it is too old', () => {
    const store = new AuthStorage(new MemoryStorage(), 'system');
    store.writePending(pending);
    expect(store.takePending(2_000)).toEqual(pending);
    expect(store.takePending(2_000)).toBeNull();
    store.writePending(pending);
    expect(store.takePending(pending.startedAt + PENDING_MAX_AGE_MS + 1)).toBeNull();
  });

  it('remembers a sign-out until the next sign-in', () => {
    const store = new AuthStorage(new MemoryStorage(), 'system');
    expect(store.isSignedOut()).toBe(false);
    store.markSignedOut();
    expect(store.isSignedOut()).toBe(true);
    store.clearSignedOut();
    expect(store.isSignedOut()).toBe(false);
  });
});

describe('refreshDelay', () => {
  it('refreshes a minute before expiry for hour-long tokens', () => {
    expect(refreshDelay(3_600_000, 3600, 0)).toBe(3_540_000);
  });
  it('refreshes at three quarters of a short lifetime', () => {
    expect(refreshDelay(120_000, 120, 0)).toBe(90_000);
  });
  it('never sooner than 5 seconds, even when already expired', () => {
    expect(refreshDelay(1_000, 3600, 10_000)).toBe(5_000);
  });
});
