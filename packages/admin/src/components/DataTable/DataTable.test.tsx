// @vitest-environment jsdom
/**
 * On a phone the table leaves out its secondary columns (and its column picker offers only the
 * rest), so that it fits without scrolling sideways; wider, it shows them all.
 */
import { MantineProvider } from '@mantine/core';
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { stubMatchMedia } from '../../testing/dom';
import { DataTable, type DataTableColumn, PHONE_QUERY, shownColumns } from './DataTable';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

interface Row {
  id: string;
  email: string;
  createdAt: string;
}
const columns: DataTableColumn<Row>[] = [
  { key: 'email', header: 'Email', hideable: false, render: (r) => r.email },
  { key: 'status', header: 'Status', render: () => 'active' },
  { key: 'createdAt', header: 'Created', secondary: true, render: (r) => r.createdAt },
];

/** jsdom has no layout: answer the phone query as told. */
function viewport(phone: boolean) {
  stubMatchMedia((query) => phone && query === PHONE_QUERY);
}

function headers(phone: boolean): string[] {
  viewport(phone);
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  act(() =>
    root.render(
      <MantineProvider>
        <DataTable
          id={`t-${phone}`}
          caption="People"
          columns={columns}
          rows={[{ id: '1', email: 'ada@example.test', createdAt: 'yesterday' }]}
          rowKey={(r) => r.id}
          columnPicker={false}
        />
      </MantineProvider>,
    ),
  );
  const out = Array.from(container.querySelectorAll('th')).map((th) => th.textContent ?? '');
  act(() => root.unmount());
  container.remove();
  return out;
}

afterEach(() => window.localStorage.clear());

describe('DataTable on a phone', () => {
  it('leaves out secondary columns below the phone breakpoint, and only there', () => {
    expect(headers(false)).toEqual(['Email', 'Status', 'Created']);
    expect(headers(true)).toEqual(['Email', 'Status']);
  });
  it('keeps the admin’s column choice within what a phone shows', () => {
    expect(shownColumns(columns, ['email', 'createdAt'], true).map((c) => c.key)).toEqual(['email']);
    expect(shownColumns(columns, ['email', 'createdAt'], false).map((c) => c.key)).toEqual(['email', 'createdAt']);
  });
});
