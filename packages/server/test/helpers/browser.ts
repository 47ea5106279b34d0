/**
 * A minimal HTTP "browser": a cookie jar, manual redirects, and form submission by field
 * name, enough to drive the server-rendered sign-in pages the way a user agent would.
 */

export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const path =
        attrs
          .map((a) => a.trim())
          .find((a) => a.toLowerCase().startsWith('path='))
          ?.slice(5) ?? '/';
      const expired =
        attrs.some((a) => /^max-age=0$/i.test(a.trim())) || attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      const key = `${name};${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { value, path });
    }
  }

  header(url: URL): string {
    const out: string[] = [];
    for (const [key, c] of this.cookies) {
      const name = key.split(';')[0];
      if (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) {
        out.push(`${name}=${c.value}`);
      }
    }
    return out.join('; ');
  }
}

export interface Page {
  url: URL;
  status: number;
  html: string;
}

export class Browser {
  readonly jar = new CookieJar();

  /** `headers`: sent with every request (an `Accept-Language`, say). */
  constructor(readonly headers: Record<string, string> = {}) {}

  /** GET (or POST) and follow redirects until a non-redirect answer or a URL `stopAt` accepts. */
  async go(
    start: string | URL,
    options: { method?: string; form?: Record<string, string>; stopAt?: (u: URL) => boolean } = {},
  ): Promise<Page> {
    let url = new URL(start);
    let method = options.method ?? 'GET';
    let body: string | undefined = options.form ? new URLSearchParams(options.form).toString() : undefined;
    for (let hops = 0; hops < 20; hops++) {
      if (options.stopAt?.(url)) return { url, status: 0, html: '' };
      const headers: Record<string, string> = { ...this.headers, cookie: this.jar.header(url) };
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(url, { method, headers, body, redirect: 'manual' });
      this.jar.store(res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url);
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url, status: res.status, html: await res.text() };
    }
    throw new Error('too many redirects');
  }

  /**
   * Submits the first form on `page` (or the first whose action ends with `options.action`)
   * with its hidden fields plus `fields`.
   */
  async submit(
    page: Page,
    fields: Record<string, string>,
    options: { stopAt?: (u: URL) => boolean; action?: string } = {},
  ) {
    const form = [...page.html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].find(
      (f) =>
        options.action === undefined ||
        decodeEntities(f[1] ?? '')
          .split('?')[0]
          ?.endsWith(options.action),
    );
    if (!form?.[1]) throw new Error(`no form on ${page.url}: ${page.html.slice(0, 300)}`);
    const hidden: Record<string, string> = {};
    for (const m of (form[2] ?? '').matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
      if (m[1]) hidden[m[1]] = decodeEntities(m[2] ?? '');
    }
    return this.go(new URL(decodeEntities(form[1]), page.url), {
      method: 'POST',
      form: { ...hidden, ...fields },
      stopAt: options.stopAt,
    });
  }
}

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
