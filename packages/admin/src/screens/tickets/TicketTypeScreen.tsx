import { Badge, Box, Button, Group, Modal, Stack, Tabs, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, type RefObject, useEffect, useRef, useState } from 'react';
import { useBlocker, useNavigate, useParams } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { ApiError } from '../../api/client';
import { usePermission } from '../../api/queries';
import type { TicketType } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { DeleteButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DetailCrumbs, DetailFallback } from '../../components/DetailScreen';
import { formatDuration } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { StaleVersionNotice } from '../../components/StaleVersionNotice';
import { useSearchParam } from '../../components/useSearchParam';
import { IssuePanel } from './IssuePanel';
import { ticketsKey, ticketTypeKey, ticketTypePath, ticketTypesKey } from './queries';
import { SettingsPanel } from './SettingsPanel';
import { TicketsPanel } from './TicketsPanel';
import { type IssueBatch, useIssueBatch } from './useIssueBatch';

const TABS = ['tickets', 'issue', 'settings'] as const;
type Tab = (typeof TABS)[number];

/** One ticket type: its tickets (by state, disable, reissue), issuing a batch, and its settings. */
export default function TicketTypeScreen() {
  const { typeId = '' } = useParams();
  const api = useApi();
  const { slug, path } = useCurrentTenant();
  const query = useQuery<TicketType, ApiError>({
    queryKey: ticketTypeKey(slug, typeId),
    queryFn: ({ signal }) => api.get<TicketType>(ticketTypePath(slug, typeId), { signal }),
  });

  const crumbs = <DetailCrumbs to={path('tickets')} list="Tickets" current={query.data?.name ?? typeId} />;
  if (query.error || !query.data) {
    return <DetailFallback crumbs={crumbs} query={query} unavailable="Ticket type not available" />;
  }
  // A batch belongs to its type: another type starts afresh.
  return (
    <TicketTypeView key={typeId} type={query.data} crumbs={crumbs} reload={async () => (await query.refetch()).data} />
  );
}

function TicketTypeView({
  type,
  crumbs,
  reload,
}: {
  type: TicketType;
  crumbs: ReactNode;
  reload: () => Promise<TicketType | undefined>;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { slug, path } = useCurrentTenant();
  const canWrite = usePermission(slug, 'tickets:write');
  const [params, setParam] = useSearchParam();
  const tabParam = params.get('tab');
  const wanted: Tab = (TABS as readonly string[]).includes(tabParam ?? '') ? (tabParam as Tab) : 'tickets';
  const tab: Tab = wanted === 'issue' && !canWrite ? 'tickets' : wanted;
  const batch = useIssueBatch(slug, type.id);
  const [deleting, setDeleting] = useState(false);
  const [staleDelete, setStaleDelete] = useState(false);
  /** Set when the page is left on purpose (the type was deleted): nothing to guard then. */
  const leaving = useRef(false);
  /** Deleted: the panels go at once, so that none asks for the type again on its way out. */
  const [deleted, setDeleted] = useState(false);

  const setType = (updated: TicketType) => {
    queryClient.setQueryData(ticketTypeKey(slug, type.id), updated);
    void queryClient.invalidateQueries({ queryKey: [...ticketTypesKey(slug), 'list'] });
    void queryClient.invalidateQueries({ queryKey: [...ticketTypesKey(slug), 'names'] });
  };

  return (
    <>
      <PageHeader
        above={crumbs}
        title={type.name}
        description={
          <Group gap="xs" component="span">
            <Badge variant="light" color={type.enabled ? 'green' : 'gray'}>
              {type.enabled ? 'Enabled' : 'Disabled'}
            </Badge>
            <span>
              Grants {type.roles.length ? type.roles.join(', ') : 'no roles'} · works for{' '}
              {formatDuration(type.validityHours * 3600)} ·{' '}
              {type.allowUserCreation ? 'may create an account' : 'existing accounts only'}
            </span>
          </Group>
        }
        actions={canWrite ? <DeleteButton onClick={() => setDeleting(true)}>Delete</DeleteButton> : undefined}
      />
      {staleDelete && (
        <Box mb="lg">
          <StaleVersionNotice
            what="this ticket type"
            onReload={() => {
              setStaleDelete(false);
              void reload();
            }}
          />
        </Box>
      )}
      {type.description && (
        <Text size="sm" mb="md" style={{ whiteSpace: 'pre-wrap' }}>
          {type.description}
        </Text>
      )}
      {!deleted && (
        <Tabs value={tab} onChange={(t) => setParam('tab', t === 'tickets' ? null : t)} keepMounted={false}>
          <Tabs.List mb="md">
            <Tabs.Tab value="tickets">Tickets</Tabs.Tab>
            {canWrite && <Tabs.Tab value="issue">Issue tickets</Tabs.Tab>}
            <Tabs.Tab value="settings">Settings</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="tickets">
            <TicketsPanel type={type} canWrite={canWrite} />
          </Tabs.Panel>
          {canWrite && (
            <Tabs.Panel value="issue">
              <IssuePanel type={type} batch={batch} onOpenSettings={() => setParam('tab', 'settings')} />
            </Tabs.Panel>
          )}
          <Tabs.Panel value="settings">
            <SettingsPanel type={type} canWrite={canWrite} onSaved={setType} reload={reload} />
          </Tabs.Panel>
        </Tabs>
      )}

      <ConfirmModal
        opened={deleting}
        onClose={() => setDeleting(false)}
        title={`Delete ${type.name}?`}
        confirmLabel="Delete ticket type"
        typeToConfirm={type.name}
        onConfirm={async () => {
          try {
            await api.delete(ticketTypePath(slug, type.id), { ifMatch: type.version });
          } catch (error) {
            if (error instanceof ApiError && error.isVersionMismatch) {
              setStaleDelete(true);
              return;
            }
            throw error;
          }
          leaving.current = true;
          setDeleted(true);
          // Its queries go; the others refetch when next shown (this page's would ask for a type now gone).
          queryClient.removeQueries({ queryKey: ticketTypeKey(slug, type.id) });
          queryClient.removeQueries({ queryKey: [...ticketsKey(slug), type.id] });
          void queryClient.invalidateQueries({ queryKey: ticketTypesKey(slug), refetchType: 'none' });
          void queryClient.invalidateQueries({ queryKey: ticketsKey(slug), refetchType: 'none' });
          notifications.show({ color: 'green', message: `Ticket type ${type.name} deleted` });
          void navigate(path('tickets'));
        }}
      >
        Every ticket of this type is deleted with it, used or not: links not yet used stop working at once, and the
        reissue requests for them go too. Accounts that used one keep their roles. This cannot be undone.
      </ConfirmModal>
      <LeaveGuard batch={batch} leaving={leaving} />
    </>
  );
}

/**
 * While a batch is on its way, or its links are on screen and not downloaded, leaving the type's
 * page (or the console) asks first: the links are shown nowhere else.
 */
function LeaveGuard({ batch, leaving }: { batch: IssueBatch; leaving: RefObject<boolean> }) {
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) =>
      batch.unsaved && !leaving.current && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    if (!batch.unsaved) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers want a value to show their own question.
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [batch.unsaved]);

  const running = batch.run?.status === 'running';
  return (
    <Modal
      opened={blocker.state === 'blocked'}
      onClose={() => blocker.reset?.()}
      title={running ? 'Leave while tickets are being issued?' : 'Leave without the links?'}
      centered
    >
      <Stack gap="md">
        <Text size="sm">
          {running
            ? 'The batch stops after the group on its way, and the links issued so far are lost unless you download them first.'
            : 'The links of this batch are shown only on this page and were not downloaded. A lost link can only be replaced by reissuing its ticket.'}
        </Text>
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={() => blocker.reset?.()}>
            Stay
          </Button>
          <Button color="red" onClick={() => blocker.proceed?.()}>
            Leave anyway
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
