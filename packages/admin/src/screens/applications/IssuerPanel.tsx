import { ActionIcon, Code, CopyButton, Group, Paper, SimpleGrid, Stack, Text, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useConsoleConfig } from '../../app/config-context';

/** The tenant's OpenID Connect endpoints, as a developer configures them in a library. */
export function tenantEndpoints(publicUrl: string, slug: string) {
  const issuer = `${publicUrl.replace(/\/+$/, '')}/t/${slug}`;
  return {
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
    jwks: `${issuer}/jwks`,
    token: `${issuer}/token`,
  };
}

/** A value to copy: label, the value in monospace, and a labelled copy button. */
export function CopyField({
  label,
  value,
  description,
  hideLabel = false,
}: {
  label: string;
  value: string;
  description?: ReactNode;
  /** In a table, where the column header says what it is: the label only names the value and button. */
  hideLabel?: boolean;
}) {
  return (
    <Stack gap={2} style={{ minWidth: 0 }}>
      {!hideLabel && (
        <Text size="xs" fw={600} c="dimmed" tt="uppercase">
          {label}
        </Text>
      )}
      <Group gap={4} wrap="nowrap" align="flex-start">
        <Code style={{ flex: 1, minWidth: 0, overflowWrap: 'anywhere', whiteSpace: 'normal' }} aria-label={label}>
          {value}
        </Code>
        <CopyButton value={value} timeout={1500}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? 'Copied' : `Copy ${label.toLowerCase()}`} withArrow>
              <ActionIcon
                variant="subtle"
                color={copied ? 'teal' : 'gray'}
                onClick={copy}
                aria-label={copied ? 'Copied' : `Copy ${label.toLowerCase()}`}
                size="sm"
              >
                {copied ? <IconCheck size={14} aria-hidden /> : <IconCopy size={14} aria-hidden />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
      {description && (
        <Text size="xs" c="dimmed">
          {description}
        </Text>
      )}
    </Stack>
  );
}

/** The issuer and discovery URL of a tenant, to copy into an OpenID Connect library. */
export function IssuerPanel({ slug, children }: { slug: string; children?: ReactNode }) {
  const config = useConsoleConfig();
  const e = tenantEndpoints(config.publicUrl, slug);
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-label="Issuer of this tenant">
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <CopyField label="Issuer" value={e.issuer} description="Every OpenID Connect library needs only this." />
        <CopyField label="Discovery URL" value={e.discovery} description="Endpoints, keys and supported features." />
        {children}
      </SimpleGrid>
    </Paper>
  );
}
