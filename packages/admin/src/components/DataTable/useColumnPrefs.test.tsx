// @vitest-environment jsdom
import { act, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { storageKey, useColumnPrefs } from './columnPrefs';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const columns = [{ key: 'email', hideable: false }, { key: 'name' }, { key: 'id', defaultHidden: true }];

type Api = ReturnType<typeof useColumnPrefs>;

function Probe({ tableId, onRender }: { tableId: string; onRender: (api: Api) => void }) {
  const prefs = useColumnPrefs(tableId, columns);
  useEffect(() => onRender(prefs));
  return <span>{prefs.visible.join(',')}</span>;
}

/** Mounts a component using the hook and hands out its latest return value. */
function mount(tableId: string) {
  const latest: { current: Api | null } = { current: null };
  const container = document.createElement('div');
  const root = createRoot(container);
  act(() =>
    root.render(
      <Probe
        tableId={tableId}
        onRender={(api) => {
          latest.current = api;
        }}
      />,
    ),
  );
  return { latest, container, unmount: () => act(() => root.unmount()) };
}

afterEach(() => window.localStorage.clear());

describe('useColumnPrefs', () => {
  it('remembers the column choice across mounts (a reload) in localStorage', () => {
    const first = mount('users');
    expect(first.container.textContent).toBe('email,name');
    act(() => first.latest.current?.setVisible('id', true));
    act(() => first.latest.current?.setVisible('name', false));
    expect(first.container.textContent).toBe('email,id');
    expect(JSON.parse(window.localStorage.getItem(storageKey('users')) ?? '{}')).toEqual({ id: true, name: false });
    first.unmount();

    const second = mount('users');
    expect(second.container.textContent).toBe('email,id');
    // Another table keeps its own choice.
    const other = mount('tenants');
    expect(other.container.textContent).toBe('email,name');
    act(() => second.latest.current?.reset());
    expect(second.container.textContent).toBe('email,name');
    expect(window.localStorage.getItem(storageKey('users'))).toBe('{}');
    second.unmount();
    other.unmount();
  });
});
