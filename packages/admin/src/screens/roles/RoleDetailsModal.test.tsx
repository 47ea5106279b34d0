// @vitest-environment jsdom
/**
 * The role modal against a fake admin API: a custom role opens as a form whose save sends only
 * what changed with If-Match; a 412 says "changed meanwhile" (Reload shows the latest version);
 * a 403 of the granting rule names what is missing; a built-in role has nothing to edit.
 */
import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { MemoryRouter } from 'react-router';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiProvider } from '../../api/ApiProvider';
import { ApiClient } from '../../api/client';
import type { ResourceApi, Role } from '../../api/types';
import { makeTenantPath, TenantContext } from '../../app/tenant';
import { stubBrowser } from '../../testing/dom';
import { RoleDetailsModal } from './RoleDetailsModal';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const ORDERS = 'https://orders.example.test';
const ordersApi: ResourceApi = {
  id: 'api1',
  identifier: ORDERS,
  name: 'Orders',
  scopes: [
    { name: 'orders:read', description: 'Read orders' },
    { name: 'orders:write', description: 'Change orders' },
  ],
  accessTokenTtlSeconds: 3600,
  builtin: false,
  createdAt: null,
  updatedAt: null,
  version: 1,
};
const support: Role = {
  id: 'r1',
  name: 'support',
  description: 'Help desk',
  permissions: ['users:read'],
  apiPermissions: [{ api: ORDERS, scope: 'orders:read' }],
  builtin: false,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
};

interface Sent {
  method: string;
  url: string;
  ifMatch: string | null;
  body: unknown;
}
let sent: Sent[];
/** Answers of the PATCH, in turn. */
let patchAnswers: { status: number; body: unknown }[];

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const fakeFetch: typeof fetch = async (input, init) => {
  const url = String(input);
  const method = init?.method ?? 'GET';
  const headers = new Headers(init?.headers);
  sent.push({
    method,
    url,
    ifMatch: headers.get('if-match'),
    body: init?.body ? JSON.parse(String(init.body)) : undefined,
  });
  if (url.endsWith('/apis')) return json(200, { items: [ordersApi], nextCursor: null });
  if (method === 'PATCH') {
    const answer = patchAnswers.shift() ?? { status: 500, body: {} };
    return json(answer.status, answer.body);
  }
  if (url.endsWith('/roles/support')) return json(200, { ...support, description: 'Changed by someone', version: 2 });
  return json(404, { error: { code: 'not_found', message: 'no' } });
};

let container: HTMLDivElement;
let root: Root;

function render(role: Role) {
  const client = new ApiClient({ baseUrl: 'https://id.test/api', getAccessToken: async () => 't', fetch: fakeFetch });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const tenant = { slug: 'acme', tenant: undefined, base: '/t/acme', path: makeTenantPath('/t/acme') };
  act(() =>
    root.render(
      <MantineProvider>
        <QueryClientProvider client={queries}>
          <ApiProvider client={client}>
            <MemoryRouter>
              <TenantContext.Provider value={tenant}>
                <RoleDetailsModal role={role} onClose={() => {}} />
              </TenantContext.Provider>
            </MemoryRouter>
          </ApiProvider>
        </QueryClientProvider>
      </MantineProvider>,
    ),
  );
}

/** Waits for `find` to answer something (React Query and Mantine render asynchronously). */
async function waitFor<T>(find: () => T | null | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const found = find();
    if (found) return found;
    await act(() => new Promise((r) => setTimeout(r, 20)));
  }
  throw new Error(`not found: ${what}\n${document.body.textContent}`);
}

const checkbox = (label: string) =>
  Array.from(document.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')).find(
    (c) => c.labels?.[0]?.textContent?.startsWith(label) || c.getAttribute('aria-label') === label,
  );
const button = (name: string) =>
  Array.from(document.querySelectorAll<HTMLButtonElement>('button')).find((b) => b.textContent?.trim() === name);
const text = () => document.body.textContent ?? '';

beforeEach(() => {
  sent = [];
  patchAnswers = [];
  stubBrowser();
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
  document.body.innerHTML = '';
});

async function tickAndSave(scope: string) {
  const box = await waitFor(() => checkbox(scope), `checkbox ${scope}`);
  act(() => box.click());
  const save = await waitFor(() => button('Save changes'), 'Save changes');
  expect(save.disabled).toBe(false);
  act(() => save.click());
}

describe('editing a custom role', () => {
  it('shows the role’s API scopes ticked and saves only what changed, with If-Match', async () => {
    patchAnswers.push({
      status: 200,
      body: {
        ...support,
        apiPermissions: [...support.apiPermissions, { api: ORDERS, scope: 'orders:write' }],
        version: 2,
      },
    });
    render(support);
    expect((await waitFor(() => checkbox('orders:read'), 'orders:read')).checked).toBe(true);
    expect(checkbox('orders:write')?.checked).toBe(false);
    await tickAndSave('orders:write');
    const patch = await waitFor(() => sent.find((s) => s.method === 'PATCH'), 'the PATCH');
    expect(patch.url).toBe('https://id.test/api/v1/tenants/acme/roles/support');
    expect(patch.ifMatch).toBe('"1"');
    expect(patch.body).toEqual({
      apiPermissions: [
        { api: ORDERS, scope: 'orders:read' },
        { api: ORDERS, scope: 'orders:write' },
      ],
    });
  });

  it('says a change made meanwhile (412) and reloads the latest version', async () => {
    patchAnswers.push({ status: 412, body: { error: { code: 'version_mismatch', message: 'Changed' } } });
    render(support);
    await tickAndSave('orders:write');
    await waitFor(() => text().includes('Changed meanwhile'), 'the stale notice');
    act(() => button('Reload')?.click());
    await waitFor(() => !text().includes('Changed meanwhile'), 'the notice gone');
    const description = document.querySelector('textarea');
    expect(description?.value).toBe('Changed by someone');
    expect(checkbox('orders:write')?.checked).toBe(false);
  });

  it('names what the granting rule found missing (403)', async () => {
    patchAnswers.push({
      status: 403,
      body: {
        error: {
          code: 'forbidden',
          message: 'Changing this role needs every right it would hand out, and the caller holds less',
          details: { missing: { apiPermissions: [{ api: ORDERS, scope: 'orders:write' }] } },
        },
      },
    });
    render(support);
    await tickAndSave('orders:write');
    await waitFor(
      () => text().includes(`Scopes of Orders (${ORDERS}) you do not hold: orders:write`),
      'the missing scope',
    );
    expect(text()).toContain('The role was not saved');
  });

  it('puts an unknown scope (400) beside the API permissions', async () => {
    patchAnswers.push({
      status: 400,
      body: {
        error: {
          code: 'unknown_scope',
          message: 'Each permission must be one of its API’s scopes',
          details: { apiPermissions: [{ api: ORDERS, scope: 'orders:write' }] },
        },
      },
    });
    render(support);
    await tickAndSave('orders:write');
    const group = await waitFor(
      () => document.querySelector('[role="group"][aria-labelledby="edit-role-api-permissions"][aria-invalid="true"]'),
      'the field in error',
    );
    expect(group.textContent).toContain('Each permission must be one of its API’s scopes');
  });
});

describe('a built-in role', () => {
  it('is read only', async () => {
    render({ ...support, name: 'tenant:admin', builtin: true, apiPermissions: [] });
    await waitFor(() => text().includes('Built-in roles come with every tenant'), 'the built-in notice');
    expect(button('Save changes')).toBeUndefined();
    expect(document.querySelectorAll('input[type="checkbox"]')).toHaveLength(0);
    expect(text()).toContain('Every scope of every API of this tenant');
  });
});
