import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  List,
  Modal,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconCode, IconRotateClockwise } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import type { Page, SigningKey } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DataTable, type DataTableColumn } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { RowAction } from '../../components/RowAction';
import { CopyField, tenantEndpoints } from '../applications/IssuerPanel';
import { lastRotation, nextScheduledRotation, publishedText, STATUS_INFO, sortSigningKeys } from './signingKeys';

const when = (iso: string | null) =>
  iso ? (
    <span title={formatDateTime(iso)}>{formatRelative(iso)}</span>
  ) : (
    <Text size="sm" c="dimmed" span>
      —
    </Text>
  );

/** The tenant's signing keys (public parts) and rotation. */
export default function SigningKeysScreen() {
  const api = useApi();
  const queryClient = useQueryClient();
  const config = useConsoleConfig();
  const { slug, tenant, path } = useCurrentTenant();
  const key = ['tenant', slug, 'signing-keys'] as const;
  const keys = useQuery<SigningKey[], ApiError>({
    queryKey: key,
    queryFn: async ({ signal }) => (await api.get<Page<SigningKey>>(tenantPath(slug, '/keys'), { signal })).items,
  });
  const [rotating, setRotating] = useState(false);
  const [jwk, setJwk] = useState<SigningKey | null>(null);
  const rows = useMemo(() => (keys.data ? sortSigningKeys(keys.data) : undefined), [keys.data]);

  const columns = useMemo<DataTableColumn<SigningKey>[]>(
    () => [
      {
        key: 'status',
        header: 'Status',
        hideable: false,
        render: (k) => (
          <Tooltip label={STATUS_INFO[k.status].meaning}>
            <Badge color={STATUS_INFO[k.status].color} variant="light">
              {STATUS_INFO[k.status].label}
            </Badge>
          </Tooltip>
        ),
      },
      { key: 'alg', header: 'Algorithm', render: (k) => <Code>{k.alg}</Code> },
      {
        key: 'kid',
        header: 'Key ID (kid)',
        hideable: false,
        render: (k) => (
          <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>
            {k.kid}
          </Text>
        ),
      },
      { key: 'createdAt', secondary: true, header: 'Created', render: (k) => when(k.createdAt) },
      { key: 'activatedAt', secondary: true, header: 'Signing since', render: (k) => when(k.activatedAt) },
      { key: 'retiredAt', secondary: true, header: 'Retired', defaultHidden: true, render: (k) => when(k.retiredAt) },
      {
        key: 'publishedUntil',
        secondary: true,
        header: 'Published',
        render: (k) => {
          const published = publishedText(k);
          return 'until' in published ? (
            <>Until {when(published.until)}</>
          ) : (
            <Text size="sm" c="dimmed">
              {published.text}
            </Text>
          );
        },
      },
      {
        key: 'jwk',
        secondary: true,
        header: 'Public key',
        align: 'right',
        render: (k) => (
          <RowAction
            tooltip="Show the public JWK"
            label={`Show the public key ${k.kid}`}
            icon={IconCode}
            onClick={() => setJwk(k)}
          />
        ),
      },
    ],
    [],
  );

  const endpoints = tenantEndpoints(config.publicUrl, slug);
  const rotationDays = tenant?.settings.keyRotationDays ?? null;
  const last = keys.data ? lastRotation(keys.data) : null;
  const next = keys.data ? nextScheduledRotation(keys.data, rotationDays) : null;

  return (
    <>
      <PageHeader
        title="Signing keys"
        description="Keys that sign this tenant’s ID and access tokens. Services verify tokens with the public keys at the JWKS URL."
        actions={
          <Button
            leftSection={<IconRotateClockwise size={16} aria-hidden />}
            onClick={() => setRotating(true)}
            disabled={!keys.data}
          >
            Rotate keys
          </Button>
        }
      />
      <Stack gap="lg">
        <Paper withBorder radius="md" p="md">
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
            <CopyField label="JWKS URL" value={endpoints.jwks} description="Public keys: current, next and previous." />
            <Stack gap={2}>
              <Text size="xs" fw={600} c="dimmed" tt="uppercase">
                Rotation
              </Text>
              <Text size="sm">
                {last ? <>Current key in use since {formatDateTime(last)}. </> : null}
                {rotationDays ? (
                  <>
                    Automatic every {rotationDays} day{rotationDays === 1 ? '' : 's'}
                    {next ? <>; next {formatRelative(next)}</> : null}.
                  </>
                ) : (
                  <>Automatic rotation is off.</>
                )}{' '}
                <Anchor component={Link} to={path('settings')} size="sm">
                  Change in settings
                </Anchor>
              </Text>
            </Stack>
          </SimpleGrid>
        </Paper>
        <DataTable
          id="signing-keys"
          caption="Signing keys"
          columns={columns}
          rows={rows}
          rowKey={(k) => k.kid}
          loading={keys.isPending}
          fetching={keys.isFetching && !keys.isPending}
          error={keys.error}
          onRetry={() => void keys.refetch()}
          empty="No keys yet: they are made on first use."
          minWidth={860}
        />
      </Stack>

      <ConfirmModal
        opened={rotating}
        onClose={() => setRotating(false)}
        title="Rotate the signing keys?"
        confirmLabel="Rotate now"
        danger={false}
        onConfirm={async () => {
          const res = await api.post<Page<SigningKey>>(tenantPath(slug, '/keys/rotate'));
          queryClient.setQueryData(key, res.items);
          notifications.show({ color: 'green', message: 'Signing keys rotated' });
        }}
      >
        <Stack gap="xs">
          <Text size="sm">For each algorithm (ES256 and RS256):</Text>
          <List size="sm" spacing={4}>
            <List.Item>
              the <strong>next</strong> key, already published in the JWKS, starts signing new tokens;
            </List.Item>
            <List.Item>
              the <strong>current</strong> key stops signing but stays published until every token it signed has expired
              (at most a day), so those tokens keep verifying;
            </List.Item>
            <List.Item>a new next key is made and published.</List.Item>
          </List>
          <Text size="sm">
            Services that fetch the JWKS when they meet an unknown key ID keep working. Rotate at once if a private key
            may have leaked, and on a schedule otherwise.
          </Text>
        </Stack>
      </ConfirmModal>

      <Modal opened={jwk !== null} onClose={() => setJwk(null)} title="Public key (JWK)" centered size="lg">
        {jwk && (
          <Stack gap="sm">
            <Text size="sm">
              {STATUS_INFO[jwk.status].label} {jwk.alg} key <Code>{jwk.kid}</Code>
            </Text>
            <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
              {JSON.stringify(jwk.publicJwk, null, 2)}
            </Code>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setJwk(null)}>
                Close
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
