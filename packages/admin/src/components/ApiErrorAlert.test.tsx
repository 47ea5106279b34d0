// @vitest-environment jsdom
/** An alert of an API error: a refusal of the granting rule lists what the admin lacks. */
import { MantineProvider } from '@mantine/core';
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { stubMatchMedia } from '../testing/dom';
import { ApiErrorAlert } from './ApiErrorAlert';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function textOf(error: unknown): string {
  stubMatchMedia();
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  act(() =>
    root.render(
      <MantineProvider>
        <ApiErrorAlert error={error} />
      </MantineProvider>,
    ),
  );
  const text = container.textContent ?? '';
  act(() => root.unmount());
  container.remove();
  return text;
}

describe('ApiErrorAlert', () => {
  it('lists what a refusal of the granting rule found missing', () => {
    const error = new ApiError(403, 'forbidden', 'Granting this role needs every right it would hand out', {
      roles: ['billing'],
      missing: { permissions: ['clients:write'] },
    });
    const text = textOf(error);
    expect(text).toContain('Not allowed');
    expect(text).toContain('Granting this role needs every right it would hand out');
    expect(text).toContain('Admin permissions you do not hold: clients:write');
    expect(text).toContain('Roles carrying more than you hold: billing');
  });
  it('says any other error as it is', () => {
    expect(textOf(new ApiError(403, 'forbidden', 'No'))).not.toContain('do not hold');
  });
});
