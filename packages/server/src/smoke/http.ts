/**
 * The smoke suite's HTTP: Node's fetch with a deadline per request and the run's abort
 * signal, redirects never followed by fetch itself, and failures said without secrets (a
 * URL is shown without its query, which may hold a code).
 */
import { describeError, StepFailure } from './report.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  url: URL;
}

/** A request that got no answer; `mayHaveArrived` unless the connection was never made. */
export class NoAnswer extends StepFailure {
  constructor(
    message: string,
    readonly mayHaveArrived: boolean,
  ) {
    super(message);
  }
}

/** Errors of a connection that was never made: the request cannot have arrived. */
const notConnected = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The origin and path of `url`: what a failure may show. */
export function where(url: URL | string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

export class Http {
  constructor(
    private readonly timeoutMs: number,
    /** Aborted when the run is interrupted (SIGINT, SIGTERM). */
    private readonly signal: AbortSignal,
  ) {}

  /** One request, its body read whole; never follows a redirect. */
  async request(url: URL | string, init: RequestInit = {}): Promise<Answer> {
    const target = new URL(url);
    const signal = AbortSignal.any([this.signal, AbortSignal.timeout(this.timeoutMs)]);
    try {
      const res = await fetch(target, { ...init, redirect: 'manual', signal });
      return { status: res.status, headers: res.headers, text: await res.text(), url: target };
    } catch (err) {
      const method = init.method ?? 'GET';
      if (this.signal.aborted) throw new NoAnswer(`${method} ${where(target)}: interrupted`, true);
      if (signal.aborted) {
        throw new NoAnswer(`${method} ${where(target)}: no answer within ${this.timeoutMs / 1000} s`, true);
      }
      const code = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
      const unsent = code !== undefined && notConnected.has(code);
      throw new NoAnswer(
        `${method} ${where(target)}: ${unsent ? 'could not connect' : 'failed'} (${describeError(err)})`,
        !unsent,
      );
    }
  }

  /** A request whose answer must be `expected` and JSON (or, for 204, empty). */
  async json(url: URL | string, expected: number, init: RequestInit = {}): Promise<Record<string, unknown>> {
    const answer = await this.request(url, init);
    if (answer.status !== expected) throw new StepFailure(refusal(init.method ?? 'GET', answer, expected));
    if (expected === 204) return {};
    return parseJson(answer, init.method ?? 'GET');
  }
}

/** The JSON object of an answer, or a failure that says what came instead. */
export function parseJson(answer: Answer, method = 'GET'): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(answer.text);
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // said below
  }
  const type = answer.headers.get('content-type') ?? 'no content type';
  throw new StepFailure(`${method} ${where(answer.url)} answered ${answer.status} with no JSON object (${type})`);
}

/**
 * "POST …/tenants answered 401 (expected 201): unauthorized: …": the admin API's error code
 * and message, or the OAuth error and its description, when the body has them.
 */
export function refusal(method: string, answer: Answer, expected: number | string): string {
  let said = '';
  try {
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    const error = body.error;
    if (error && typeof error === 'object') {
      const e = error as Record<string, unknown>;
      said = `${String(e.code ?? '')}: ${String(e.message ?? '')}`;
    } else if (typeof error === 'string') {
      said = typeof body.error_description === 'string' ? `${error}: ${body.error_description}` : error;
    }
  } catch {
    said = answer.text.trim() ? `${answer.headers.get('content-type') ?? 'a body'} of ${answer.text.length} bytes` : '';
  }
  return `${method} ${where(answer.url)} answered ${answer.status} (expected ${expected})${said ? `: ${said}` : ''}`;
}

/** RFC 6749 2.3.1: HTTP Basic with the id and secret form-encoded. */
export function basicAuth(id: string, secret: string): string {
  const encode = (s: string) => new URLSearchParams({ s }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/** A form body and its content type, for `RequestInit`. */
export function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

/**
 * The cookies a browser would send back to one deployment: by name and path (RFC 6265 path
 * matching), dropped when the server expires them. One host, so no domain matching.
 */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split(/=(.*)/s);
        const k = key.trim().toLowerCase();
        if (k === 'path' && val.startsWith('/')) path = val;
        if (k === 'max-age' && Number(val) <= 0) expired = true;
        if (k === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      const key = `${name};${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  /** The Cookie header for a request to `url` (undefined when none applies). */
  header(url: URL): string | undefined {
    const matching = [...this.cookies.values()].filter(
      (c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
    );
    // RFC 6265 5.4: longer paths first.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.length > 0 ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }
}
