// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { withoutAutofocus } from './BrandingPreview';

describe('branding preview HTML', () => {
  it('drops autofocus (a sandboxed frame may not take the focus) and keeps the page', () => {
    const html = withoutAutofocus(
      '<!doctype html><html><head><style>b{}</style></head><body><input name="email" autofocus><button>Sign in</button></body></html>',
    );
    expect(html).not.toMatch(/autofocus/i);
    expect(html).toContain('<input name="email">');
    expect(html).toContain('<style>b{}</style>');
    expect(html.startsWith('<!doctype html>')).toBe(true);
  });
});
