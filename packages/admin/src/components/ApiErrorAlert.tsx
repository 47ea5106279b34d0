import { Alert, Button, Group, List, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { ApiError } from '../api/client';
import { grantRefusalDetails, grantRefusalLines } from './grantRefusal';

/** What an admin should read for an error: the API's message, or a plain one for the rest. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * An error from the API, said plainly: the message, extra lines (problems that matched no form
 * field), and the code and request id an operator can look up in the logs.
 */
export function ApiErrorAlert({
  error,
  title = 'Something went wrong',
  extra,
  onRetry,
  onClose,
}: {
  error: unknown;
  title?: string;
  /** Further messages, e.g. validation problems that belong to no field. */
  extra?: string[];
  onRetry?: () => void;
  onClose?: () => void;
}) {
  if (!error && !extra?.length) return null;
  const api = error instanceof ApiError ? error : null;
  const forbidden = api?.status === 403;
  // A refusal of the granting rule says what the admin lacks, after the message.
  const refusal = grantRefusalDetails(error);
  const lines = [...(refusal ? grantRefusalLines(refusal) : []), ...(extra ?? [])];
  return (
    <Alert
      color={forbidden ? 'orange' : 'red'}
      variant="light"
      title={forbidden ? 'Not allowed' : title}
      icon={<IconAlertTriangle aria-hidden />}
      withCloseButton={Boolean(onClose)}
      closeButtonLabel="Dismiss"
      onClose={onClose}
      role="alert"
    >
      {error ? <Text size="sm">{errorMessage(error)}</Text> : null}
      {lines.length > 0 && (
        <List size="sm" mt={4}>
          {lines.map((m) => (
            <List.Item key={m}>{m}</List.Item>
          ))}
        </List>
      )}
      {api && api.status !== 0 && (
        <Text size="xs" c="dimmed" mt={4}>
          {api.code}
          {api.requestId ? ` · request ${api.requestId}` : ''}
        </Text>
      )}
      {onRetry && (
        <Group mt="sm">
          <Button size="xs" variant="white" color="red" onClick={onRetry}>
            Retry
          </Button>
        </Group>
      )}
    </Alert>
  );
}
