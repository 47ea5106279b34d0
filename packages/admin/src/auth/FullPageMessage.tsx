import { Center, Loader, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** A centred card for the moments outside the shell: redirecting, signed out, sign-in errors. */
export function FullPageMessage({
  title,
  children,
  loading = false,
}: {
  title: string;
  children?: ReactNode;
  loading?: boolean;
}) {
  return (
    <Center mih="100dvh" p="md" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" radius="md" maw={440} w="100%" component="main">
        <Stack align="center" gap="md" ta="center">
          {loading && <Loader size="md" aria-hidden />}
          <Title order={1} size="h3">
            {title}
          </Title>
          {typeof children === 'string' ? <Text c="dimmed">{children}</Text> : children}
        </Stack>
      </Paper>
    </Center>
  );
}
