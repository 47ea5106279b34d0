import { Anchor, Badge, Group, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import type { ApiError } from '../../api/client';
import { usePermission } from '../../api/queries';
import type { IdentityProvider, Page } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateButton } from '../../components/ActionButtons';
import { DataTable, type DataTableColumn } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { CreateIdentityProviderModal } from './CreateIdentityProviderModal';
import { CredentialBadge, IdpKindBadge } from './IdpBadges';
import { idpPath, idpsListKey } from './queries';

/**
 * The upstream identity providers of a tenant (Google, Microsoft, any OpenID Connect provider):
 * each is a button on the tenant's sign-in page. Open one to edit it, see its redirect URI or delete it.
 */
export default function IdentityProvidersScreen() {
  const api = useApi();
  const { slug, path } = useCurrentTenant();
  const canWrite = usePermission(slug, 'identity_providers:write');
  const [creating, setCreating] = useState(false);

  // One page: a tenant has at most 50 providers, listed by slug.
  const list = useQuery<Page<IdentityProvider>, ApiError>({
    queryKey: idpsListKey(slug),
    queryFn: ({ signal }) => api.get<Page<IdentityProvider>>(idpPath(slug), { signal }),
  });

  const columns = useMemo<DataTableColumn<IdentityProvider>[]>(
    () => [
      {
        key: 'name',
        header: 'Provider',
        hideable: false,
        render: (p) => (
          <Stack gap={0}>
            <Anchor
              component={Link}
              to={path('identity-providers', p.id)}
              fw={500}
              style={{ overflowWrap: 'anywhere' }}
            >
              {p.displayName}
            </Anchor>
            <Text size="xs" c="dimmed" ff="monospace" style={{ wordBreak: 'break-all' }}>
              {p.slug}
            </Text>
          </Stack>
        ),
      },
      { key: 'kind', header: 'Kind', render: (p) => <IdpKindBadge kind={p.kind} /> },
      {
        key: 'enabled',
        header: 'Status',
        render: (p) => (
          <Badge variant="light" color={p.enabled ? 'green' : 'gray'}>
            {p.enabled ? 'Enabled' : 'Disabled'}
          </Badge>
        ),
      },
      { key: 'credential', secondary: true, header: 'Credential', render: (p) => <CredentialBadge idp={p} /> },
      {
        key: 'issuer',
        secondary: true,
        header: 'Issuer',
        render: (p) => (
          <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }} lineClamp={2}>
            {p.issuer}
          </Text>
        ),
      },
      {
        key: 'access',
        secondary: true,
        header: 'Sign-up and linking',
        render: (p) => (
          <Group gap={4}>
            {p.allowSignUp && (
              <Badge size="sm" variant="outline" style={{ textTransform: 'none' }}>
                sign-up
              </Badge>
            )}
            {p.allowLink && (
              <Badge size="sm" variant="outline" style={{ textTransform: 'none' }}>
                link
              </Badge>
            )}
            {p.trustEmails && (
              <Badge size="sm" variant="light" color="orange" style={{ textTransform: 'none' }}>
                trusts emails
              </Badge>
            )}
            {!p.allowSignUp && !p.allowLink && !p.trustEmails && (
              <Text size="sm" c="dimmed">
                Linked users only
              </Text>
            )}
          </Group>
        ),
      },
      {
        key: 'domains',
        secondary: true,
        header: 'Email domains',
        defaultHidden: true,
        render: (p) => (p.domains.length ? p.domains.join(', ') : '—'),
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Created',
        render: (p) => <span title={formatDateTime(p.createdAt)}>{formatRelative(p.createdAt)}</span>,
      },
    ],
    [path],
  );

  return (
    <>
      <PageHeader
        title="Identity providers"
        description="Let this tenant’s users sign in with Google, Microsoft or your company’s OpenID Connect provider: each enabled provider is a button on the sign-in page."
        actions={
          canWrite ? <CreateButton onClick={() => setCreating(true)}>Add identity provider</CreateButton> : undefined
        }
      />
      <DataTable
        id="identity-providers"
        caption="Identity providers"
        columns={columns}
        rows={list.data?.items}
        loading={list.isPending}
        fetching={list.isFetching && !list.isPending}
        error={list.error}
        onRetry={() => void list.refetch()}
        rowKey={(p) => p.id}
        empty={
          canWrite ? 'No identity providers yet: users sign in with their password only.' : 'No identity providers yet.'
        }
        minWidth={860}
      />
      {canWrite && <CreateIdentityProviderModal opened={creating} onClose={() => setCreating(false)} />}
    </>
  );
}
