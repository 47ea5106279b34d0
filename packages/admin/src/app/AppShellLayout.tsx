import {
  AppShell,
  Avatar,
  Badge,
  Box,
  Burger,
  Center,
  Divider,
  Group,
  Loader,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  UnstyledButton,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconChevronDown, IconLogout } from '@tabler/icons-react';
import { Suspense, useEffect } from 'react';
import { Link, Outlet, useLocation } from 'react-router';
import { useAuth, useCurrentUser } from '../auth/AuthProvider';
import { homePath } from '../auth/scope';
import { overviewNav, tenantScreens, tenantsNav } from './routes';
import { TenantSwitcher } from './TenantSwitcher';
import { lastTenant, makeTenantPath, tenantBase, tenantOfPath } from './tenant';

/** The console's frame: header (burger, name, user menu), navbar, and the screen. */
export function AppShellLayout() {
  const [opened, { toggle, close }] = useDisclosure(false);
  const location = useLocation();
  // A link in the navbar closes it on phones.
  // biome-ignore lint/correctness/useExhaustiveDependencies: close on every navigation
  useEffect(() => close(), [location.pathname, close]);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 250, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding={{ base: 'sm', sm: 'lg' }}
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={opened ? 'Close navigation' : 'Open navigation'}
            />
            <Brand />
          </Group>
          <UserMenu />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar aria-label="Main navigation">
        <ScrollArea type="auto" p="sm">
          <Navigation />
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        {/* AppShell.Main is the page's one <main> landmark; this only centres the screen. */}
        <Box maw={1280} mx="auto" id="main">
          <Suspense fallback={<ScreenFallback />}>
            <Outlet />
          </Suspense>
        </Box>
      </AppShell.Main>
    </AppShell>
  );
}

export function ScreenFallback() {
  return (
    <Center py="xl">
      <Loader aria-label="Loading" />
    </Center>
  );
}

function Brand() {
  const { client } = useAuth();
  const scope = client.scope;
  return (
    <Link to={homePath(scope)} style={{ textDecoration: 'none', color: 'inherit' }}>
      <Group gap="xs" wrap="nowrap">
        <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" width={26} height={26} />
        <Text fw={700} size="lg" visibleFrom="xs">
          Latchkey
        </Text>
        <Badge variant="light" color={scope.kind === 'system' ? 'blue' : 'grape'} style={{ textTransform: 'none' }}>
          {scope.kind === 'system' ? 'System console' : scope.authTenant}
        </Badge>
      </Group>
    </Link>
  );
}

function Navigation() {
  const { client } = useAuth();
  const scope = client.scope;
  const { pathname } = useLocation();
  const slug = tenantOfPath(scope, pathname) ?? lastTenant();
  const base = tenantBase(scope, slug);
  const path = makeTenantPath(base);
  const isActive = (to: string, exact = false) =>
    exact ? pathname === to : pathname === to || pathname.startsWith(`${to}/`);

  const tenantLinks = tenantScreens
    .filter((s) => s.nav)
    .map((s) => {
      const nav = s.nav as NonNullable<typeof s.nav>;
      const to = path(s.path);
      const Icon = nav.icon;
      return (
        <NavLink
          key={s.path}
          component={Link}
          to={to}
          label={nav.label}
          leftSection={<Icon size={18} stroke={1.6} aria-hidden />}
          active={isActive(to)}
          aria-current={isActive(to) ? 'page' : undefined}
        />
      );
    });

  if (scope.kind === 'tenant') {
    return (
      <nav>
        <NavLink
          component={Link}
          to={base}
          label={overviewNav.label}
          leftSection={<overviewNav.icon size={18} stroke={1.6} aria-hidden />}
          active={isActive(base, true)}
          aria-current={isActive(base, true) ? 'page' : undefined}
        />
        {tenantLinks}
      </nav>
    );
  }
  return (
    <nav>
      <NavLink
        component={Link}
        to="/"
        label={overviewNav.label}
        leftSection={<overviewNav.icon size={18} stroke={1.6} aria-hidden />}
        active={pathname === '/'}
        aria-current={pathname === '/' ? 'page' : undefined}
      />
      <NavLink
        component={Link}
        to="/tenants"
        label={tenantsNav.label}
        leftSection={<tenantsNav.icon size={18} stroke={1.6} aria-hidden />}
        active={pathname === '/tenants' || isActive(base, true)}
        aria-current={pathname === '/tenants' ? 'page' : undefined}
      />
      <Divider my="sm" />
      <Box px="xs" pb="xs">
        <TenantSwitcher current={slug} />
      </Box>
      {tenantLinks}
    </nav>
  );
}

function UserMenu() {
  const { client } = useAuth();
  const user = useCurrentUser();
  const label = user.name || user.email || user.sub;
  const initials = (user.name || user.email || '?')
    .split(/[\s@.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((s) => s[0]?.toUpperCase())
    .join('');
  return (
    <Menu position="bottom-end" width={240} shadow="md">
      <Menu.Target>
        <UnstyledButton aria-label={`Account menu for ${label}`}>
          <Group gap={6} wrap="nowrap">
            <Avatar size={30} radius="xl" color="blue">
              {initials}
            </Avatar>
            <Text size="sm" fw={500} visibleFrom="sm" maw={200} truncate>
              {label}
            </Text>
            <IconChevronDown size={14} aria-hidden />
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Signed in as</Menu.Label>
        <Box px="sm" pb="xs">
          {user.name && (
            <Text size="sm" fw={500} truncate>
              {user.name}
            </Text>
          )}
          {user.email && (
            <Text size="xs" c="dimmed" truncate>
              {user.email}
            </Text>
          )}
        </Box>
        <Menu.Divider />
        <Menu.Item leftSection={<IconLogout size={16} aria-hidden />} onClick={() => void client.signOut()}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
