/** Identity providers for the federation tests, made through the admin API. */
import { expect } from 'vitest';
import type { IdentityProvider } from '../../src/federation/store.js';
import type { ApiClient } from './server.js';

export async function createProvider(
  api: ApiClient,
  slug: string,
  body: Record<string, unknown>,
): Promise<IdentityProvider> {
  const res = await api('POST', `/api/v1/tenants/${slug}/identity-providers`, { body });
  expect(res.status, res.text).toBe(201);
  return res.body as IdentityProvider;
}
