/**
 * What jsdom lacks and Mantine or the console need, for the console's DOM tests: media queries
 * (answered as told, since jsdom has no layout), ResizeObserver, font loading, and scrolling an
 * element into view (focusFirstError).
 */

/** `window.matchMedia` answering `matches(query)`. */
export function stubMatchMedia(matches: (query: string) => boolean = () => false): void {
  window.matchMedia = ((query: string) => ({
    matches: matches(query),
    media: query,
    onchange: null,
    addEventListener: () => {},
    removeEventListener: () => {},
    addListener: () => {},
    removeListener: () => {},
    dispatchEvent: () => false,
  })) as unknown as typeof window.matchMedia;
}

/** Everything above, for a test that renders Mantine modals and form fields. */
export function stubBrowser(): void {
  stubMatchMedia();
  window.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
  Element.prototype.scrollIntoView ??= () => {};
  // Mantine's autosizing textarea listens to font loading.
  if (!('fonts' in document)) {
    Object.defineProperty(document, 'fonts', { value: { addEventListener() {}, removeEventListener() {} } });
  }
}
