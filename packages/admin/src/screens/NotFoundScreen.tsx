import { Button, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { useAuthClient } from '../auth/AuthProvider';
import { homePath } from '../auth/scope';
import { PageHeader } from '../components/PageHeader';

export default function NotFoundScreen() {
  const scope = useAuthClient().scope;
  return (
    <Stack maw={560}>
      <PageHeader title="Page not found" />
      <Text c="dimmed">There is nothing at this address in the console. It may have been mistyped, or moved.</Text>
      <Button component={Link} to={homePath(scope)} w="fit-content">
        Go to the overview
      </Button>
    </Stack>
  );
}
