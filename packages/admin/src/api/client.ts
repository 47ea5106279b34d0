/**
 * The typed fetch client for the admin API (`{adminApi}/v1/...`): bearer token from the auth
 * module, the API's error shape as `ApiError`, ETag/If-Match for optimistic concurrency.
 */

/** One problem of a 400 `validation_failed` (or `invalid_settings`): a JSON pointer into the body. */
export interface ApiErrorDetail {
  in?: string;
  path: string;
  message: string;
  code?: string;
}

/** An error answered by the API (`{"error":{code,message,details}}`), or a network failure (status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
    readonly requestId: string | null = null,
  ) {
    super(message);
  }

  /** 412 `version_mismatch`: someone else changed the resource meanwhile. */
  get isVersionMismatch(): boolean {
    return this.status === 412;
  }

  /** The per-field problems of a validation error, when the details carry them. */
  get fieldDetails(): ApiErrorDetail[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is ApiErrorDetail =>
        typeof d === 'object' && d !== null && typeof d.path === 'string' && typeof d.message === 'string',
    );
  }

  static async fromResponse(res: Response): Promise<ApiError> {
    const requestId = res.headers.get('x-request-id');
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    if (error && typeof error.code === 'string') {
      return new ApiError(
        res.status,
        error.code,
        typeof error.message === 'string' ? error.message : error.code,
        error.details,
        requestId,
      );
    }
    return new ApiError(res.status, `http_${res.status}`, res.statusText || `HTTP ${res.status}`, undefined, requestId);
  }
}

export type QueryValue = string | number | boolean | null | undefined | readonly string[];

/**
 * `?a=1&b=x` from an object, leaving out undefined, null and empty strings (an empty filter
 * means "no filter": the API would refuse `status=`). Keys keep their order. Arrays repeat the key.
 */
export function buildQuery(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      for (const v of value) search.append(key, v);
    } else {
      search.set(key, String(value));
    }
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

/** `If-Match` value for a version: 3 → `"3"`; an ETag as received passes through. */
export function ifMatchHeader(version: number | string): string {
  if (typeof version === 'number') return `"${version}"`;
  return version;
}

/** The version a strong or weak ETag like `"3"` or `W/"3"` names, or null. */
export function versionFromEtag(etag: string | null): number | null {
  const m = etag?.match(/^(?:W\/)?"(\d+)"$/);
  return m?.[1] ? Number(m[1]) : null;
}

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** A resource version (or ETag): sent as If-Match, so a stale edit answers 412. */
  ifMatch?: number | string | null;
  signal?: AbortSignal;
  /** How to read a 2xx body; default JSON (204 gives undefined). */
  responseType?: 'json' | 'text';
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  etag: string | null;
  /** The ETag's version, when the response carries one. */
  version: number | null;
}

export interface UploadOptions {
  /** The body's media type, e.g. `application/x-ndjson`. */
  contentType: string;
  query?: Record<string, QueryValue>;
  signal?: AbortSignal;
}

export interface DownloadOptions {
  query?: Record<string, QueryValue>;
  /** The Accept header; any type by default. */
  accept?: string;
  signal?: AbortSignal;
}

export interface DownloadedFile {
  blob: Blob;
  /** From `Content-Disposition: attachment; filename="…"`, or null. */
  fileName: string | null;
}

/** The plain `filename="…"` of a Content-Disposition header (no directories), or null. */
export function fileNameOf(disposition: string | null): string | null {
  const m = disposition?.match(/filename="([^"\\/]+)"/i) ?? disposition?.match(/filename=([^;\s"\\/]+)/i);
  return m?.[1] ?? null;
}

export interface ApiClientOptions {
  /** `{adminApi}` from config.json, e.g. https://id.example.com/api */
  baseUrl: string;
  /** A valid access token; `force` asks for a fresh one after a 401. */
  getAccessToken: (options?: { force?: boolean }) => Promise<string>;
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The absolute URL of an API path like `/v1/tenants`. */
  url(path: string, query?: Record<string, QueryValue>): string {
    return `${this.baseUrl}${path}${query ? buildQuery(query) : ''}`;
  }

  /**
   * One request with the bearer token: a 401 is retried once with a fresh token, a network
   * failure becomes `ApiError` status 0, a non-2xx answer the API's error.
   */
  private async send(method: string, url: string, init: { headers: Headers; body?: BodyInit; signal?: AbortSignal }) {
    const attempt = async (token: string) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      try {
        return await this.fetchImpl(url, { method, headers, body: init.body, signal: init.signal });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection and retry.');
      }
    };
    let res = await attempt(await this.options.getAccessToken());
    if (res.status === 401) {
      // The token may have been revoked or expired early: one retry with a fresh one.
      res = await attempt(await this.options.getAccessToken({ force: true }));
    }
    if (!res.ok) throw await ApiError.fromResponse(res);
    return res;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers = new Headers();
    headers.set('accept', options.responseType === 'text' ? 'text/html, application/json' : 'application/json');
    if (options.body !== undefined) headers.set('content-type', 'application/json');
    if (options.ifMatch !== undefined && options.ifMatch !== null) {
      headers.set('if-match', ifMatchHeader(options.ifMatch));
    }
    const res = await this.send(method, this.url(path, options.query), {
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
    const etag = res.headers.get('etag');
    let data: unknown;
    if (res.status !== 204) {
      data = options.responseType === 'text' ? await res.text() : await res.json();
    }
    return { data: data as T, status: res.status, etag, version: versionFromEtag(etag) };
  }

  /**
   * POSTs `body` as it is, with its media type, and reads the JSON answer: a File goes as the
   * browser streams it from disk, never read into a string (the users import's JSON lines).
   */
  async upload<T>(path: string, body: Blob, options: UploadOptions): Promise<T> {
    const headers = new Headers({ accept: 'application/json', 'content-type': options.contentType });
    const res = await this.send('POST', this.url(path, options.query), { headers, body, signal: options.signal });
    return (await res.json()) as T;
  }

  /** A 2xx body as a Blob (an export to save), with the file name its Content-Disposition gives. */
  async download(path: string, options: DownloadOptions = {}): Promise<DownloadedFile> {
    const headers = new Headers({ accept: options.accept ?? '*/*' });
    const res = await this.send('GET', this.url(path, options.query), { headers, signal: options.signal });
    return { blob: await res.blob(), fileName: fileNameOf(res.headers.get('content-disposition')) };
  }

  async get<T>(path: string, options?: Omit<RequestOptions, 'body'>): Promise<T> {
    return (await this.request<T>('GET', path, options)).data;
  }
  async post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return (await this.request<T>('POST', path, { ...options, body })).data;
  }
  async patch<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return (await this.request<T>('PATCH', path, { ...options, body })).data;
  }
  async put<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return (await this.request<T>('PUT', path, { ...options, body })).data;
  }
  async delete(path: string, options?: RequestOptions): Promise<void> {
    await this.request<void>('DELETE', path, options);
  }
}

/** `/v1/tenants/{slug}` + rest, with the slug escaped. */
export function tenantPath(slug: string, rest = ''): string {
  return `/v1/tenants/${encodeURIComponent(slug)}${rest}`;
}
