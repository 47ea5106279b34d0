/**
 * The current tenant. Tenant-scoped screens live under `/tenants/{slug}/…` in the system console
 * and `/t/{slug}/…` in a tenant console; `TenantLayout` reads the slug from the URL, checks the
 * tenant exists for this admin, and hands it down: a screen calls `useCurrentTenant()`.
 */
import { Button, Stack } from '@mantine/core';
import { createContext, useContext, useEffect, useMemo } from 'react';
import { Link, matchPath, Outlet, useParams } from 'react-router';
import type { ApiError } from '../api/client';
import { useTenantQuery } from '../api/queries';
import type { Tenant } from '../api/types';
import { useAuthClient } from '../auth/AuthProvider';
import { type ConsoleScope, isSlug, SYSTEM_TENANT } from '../auth/scope';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { PageHeader } from '../components/PageHeader';

export interface CurrentTenant {
  slug: string;
  /** The tenant, once loaded. */
  tenant: Tenant | undefined;
  /** Router path of this tenant's screens: `/tenants/{slug}` or `/t/{slug}`. */
  base: string;
  /** Router path of one of its screens: `path('users')`, `path('users', id)`. */
  path: (...segments: string[]) => string;
}

/** Exported for tests, which provide a tenant without the route. */
export const TenantContext = createContext<CurrentTenant | null>(null);

export function tenantBase(scope: ConsoleScope, slug: string): string {
  return scope.kind === 'tenant' ? `/t/${slug}` : `/tenants/${encodeURIComponent(slug)}`;
}

export function makeTenantPath(base: string) {
  return (...segments: string[]) => [base, ...segments.filter(Boolean).map((s) => encodeURIComponent(s))].join('/');
}

/** The tenant of the current screen (inside a tenant-scoped route). */
export function useCurrentTenant(): CurrentTenant {
  const ctx = useContext(TenantContext);
  if (!ctx) throw new Error('useCurrentTenant() outside a tenant-scoped route');
  return ctx;
}

const LAST_TENANT_KEY = 'latchkey.admin.lastTenant';

/** The tenant the system console worked on last: tenant-scoped navbar links point there. */
export function lastTenant(): string {
  try {
    const v = window.localStorage.getItem(LAST_TENANT_KEY);
    return v && isSlug(v) ? v : SYSTEM_TENANT;
  } catch {
    return SYSTEM_TENANT;
  }
}
function rememberTenant(slug: string) {
  try {
    window.localStorage.setItem(LAST_TENANT_KEY, slug);
  } catch {
    // Not remembered: the navbar falls back to the system tenant.
  }
}

/** The tenant a pathname (router path, no /admin) is about, if any. */
export function tenantOfPath(scope: ConsoleScope, pathname: string): string | null {
  if (scope.kind === 'tenant') return scope.authTenant;
  const m = matchPath({ path: '/tenants/:slug', end: false }, pathname);
  const slug = m?.params.slug;
  return slug && isSlug(slug) ? slug : null;
}

/** Route element of `tenants/:slug` and `t/:slug`. */
export function TenantLayout() {
  const { slug = '' } = useParams();
  const auth = useAuthClient();
  const scope = auth.scope;
  const valid = isSlug(slug);
  const query = useTenantQuery(slug);

  useEffect(() => {
    if (scope.kind === 'system' && valid && query.isSuccess) rememberTenant(slug);
  }, [scope.kind, slug, valid, query.isSuccess]);

  const base = tenantBase(scope, slug);
  // Stable while the tenant is: screens memoise on `path`, and a new object would re-render them all.
  const value = useMemo<CurrentTenant>(
    () => ({ slug, tenant: query.data, base, path: makeTenantPath(base) }),
    [slug, query.data, base],
  );

  if (!valid) return <TenantProblem slug={slug} error={null} />;
  if (query.error && (query.error.status === 404 || query.error.status === 403)) {
    return <TenantProblem slug={slug} error={query.error} />;
  }
  return (
    <TenantContext.Provider value={value}>
      <Outlet />
    </TenantContext.Provider>
  );
}

function TenantProblem({ slug, error }: { slug: string; error: ApiError | null }) {
  const scope = useAuthClient().scope;
  return (
    <Stack maw={640}>
      <PageHeader title="Tenant not available" description={`“${slug}” does not exist, or you may not manage it.`} />
      {error && <ApiErrorAlert error={error} title="Tenant not available" />}
      {scope.kind === 'system' && (
        <Button component={Link} to="/tenants" variant="default" w="fit-content">
          Go to the tenant list
        </Button>
      )}
    </Stack>
  );
}
