/**
 * The routing table. Router paths are relative to the basename `/admin`.
 *
 * System console (signs in to `system`):     Tenant console (signs in to {slug}):
 *   /                    all tenants overview   /t/{slug}                 the tenant's overview
 *   /tenants             tenant list            /t/{slug}/{screen}        tenant screens below
 *   /tenants/{slug}      the tenant's overview  /t/{slug}/callback        OAuth redirect URI
 *   /tenants/{slug}/{screen}  tenant screens
 *   /callback            OAuth redirect URI
 *
 * To add a tenant-scoped screen: create `src/screens/<name>/<Name>Screen.tsx` (default export),
 * then add one entry to `tenantScreens` below. Both consoles and the navbar pick it up.
 */
import {
  type Icon,
  IconApi,
  IconApps,
  IconBuildingSkyscraper,
  IconCertificate,
  IconGauge,
  IconHistory,
  IconKey,
  IconLogin,
  IconMail,
  IconSettings,
  IconShieldLock,
  IconTicket,
  IconUsers,
} from '@tabler/icons-react';
import { type ComponentType, type LazyExoticComponent, lazy, Suspense } from 'react';
import type { RouteObject } from 'react-router';
import CallbackScreen from '../auth/CallbackScreen';
import { RequireAuth } from '../auth/RequireAuth';
import type { ConsoleScope } from '../auth/scope';
import { AppShellLayout, ScreenFallback } from './AppShellLayout';
import { TenantLayout } from './tenant';

type Screen = LazyExoticComponent<ComponentType>;

export interface NavEntry {
  label: string;
  icon: Icon;
}

export interface TenantScreenRoute {
  /** Below the tenant base: '' is the tenant's index. */
  path: string;
  screen: Screen;
  /** Shown in the navbar when set. */
  nav?: NavEntry;
}

const TenantOverviewScreen = lazy(() => import('../screens/overview/TenantOverviewScreen'));
const SystemOverviewScreen = lazy(() => import('../screens/overview/SystemOverviewScreen'));
const TenantsScreen = lazy(() => import('../screens/tenants/TenantsScreen'));
const TenantSettingsScreen = lazy(() => import('../screens/tenants/TenantSettingsScreen'));
const UsersScreen = lazy(() => import('../screens/users/UsersScreen'));
const UserScreen = lazy(() => import('../screens/users/UserScreen'));
const RolesScreen = lazy(() => import('../screens/roles/RolesScreen'));
const ApplicationsScreen = lazy(() => import('../screens/applications/ApplicationsScreen'));
const ApplicationScreen = lazy(() => import('../screens/applications/ApplicationScreen'));
const ApisScreen = lazy(() => import('../screens/apis/ApisScreen'));
const IdentityProvidersScreen = lazy(() => import('../screens/identity-providers/IdentityProvidersScreen'));
const IdentityProviderScreen = lazy(() => import('../screens/identity-providers/IdentityProviderScreen'));
const ApiKeysScreen = lazy(() => import('../screens/api-keys/ApiKeysScreen'));
const SigningKeysScreen = lazy(() => import('../screens/signing-keys/SigningKeysScreen'));
const AuditLogScreen = lazy(() => import('../screens/audit/AuditLogScreen'));
const EmailsScreen = lazy(() => import('../screens/emails/EmailsScreen'));
const TicketTypesScreen = lazy(() => import('../screens/tickets/TicketTypesScreen'));
const TicketTypeScreen = lazy(() => import('../screens/tickets/TicketTypeScreen'));
const NotFoundScreen = lazy(() => import('../screens/NotFoundScreen'));

/** Screens about one tenant, in navbar order. */
export const tenantScreens: TenantScreenRoute[] = [
  { path: '', screen: TenantOverviewScreen },
  { path: 'users', screen: UsersScreen, nav: { label: 'Users', icon: IconUsers } },
  { path: 'users/:userId', screen: UserScreen },
  { path: 'roles', screen: RolesScreen, nav: { label: 'Roles', icon: IconShieldLock } },
  { path: 'applications', screen: ApplicationsScreen, nav: { label: 'Applications', icon: IconApps } },
  { path: 'applications/:clientId', screen: ApplicationScreen },
  { path: 'apis', screen: ApisScreen, nav: { label: 'APIs', icon: IconApi } },
  {
    path: 'identity-providers',
    screen: IdentityProvidersScreen,
    nav: { label: 'Identity providers', icon: IconLogin },
  },
  { path: 'identity-providers/:idpId', screen: IdentityProviderScreen },
  { path: 'tickets', screen: TicketTypesScreen, nav: { label: 'Tickets', icon: IconTicket } },
  { path: 'tickets/:typeId', screen: TicketTypeScreen },
  { path: 'api-keys', screen: ApiKeysScreen, nav: { label: 'API keys', icon: IconKey } },
  { path: 'signing-keys', screen: SigningKeysScreen, nav: { label: 'Signing keys', icon: IconCertificate } },
  { path: 'audit', screen: AuditLogScreen, nav: { label: 'Audit log', icon: IconHistory } },
  { path: 'emails', screen: EmailsScreen, nav: { label: 'Emails', icon: IconMail } },
  { path: 'settings', screen: TenantSettingsScreen, nav: { label: 'Settings', icon: IconSettings } },
];

/** Navbar entries above the tenant section. */
export const overviewNav: NavEntry = { label: 'Overview', icon: IconGauge };
export const tenantsNav: NavEntry = { label: 'Tenants', icon: IconBuildingSkyscraper };

function element(Screen: Screen) {
  return (
    <Suspense fallback={<ScreenFallback />}>
      <Screen />
    </Suspense>
  );
}

function tenantChildren(): RouteObject[] {
  return tenantScreens.map((s) =>
    s.path === '' ? { index: true, element: element(s.screen) } : { path: s.path, element: element(s.screen) },
  );
}

const shell = (
  <RequireAuth>
    <AppShellLayout />
  </RequireAuth>
);

export function buildRoutes(scope: ConsoleScope): RouteObject[] {
  const notFound = { path: '*', element: element(NotFoundScreen) };
  if (scope.kind === 'tenant') {
    return [
      { path: '/t/:slug/callback', element: <CallbackScreen /> },
      {
        path: '/t/:slug',
        element: shell,
        children: [{ element: <TenantLayout />, children: tenantChildren() }, notFound],
      },
      { path: '*', element: shell, children: [notFound] },
    ];
  }
  return [
    { path: '/callback', element: <CallbackScreen /> },
    {
      path: '/',
      element: shell,
      children: [
        { index: true, element: element(SystemOverviewScreen) },
        { path: 'tenants', element: element(TenantsScreen) },
        { path: 'tenants/:slug', element: <TenantLayout />, children: tenantChildren() },
        notFound,
      ],
    },
  ];
}
