/**
 * A password sign-in over plain HTTP, as a browser without JavaScript does it: the
 * authorization request (code, PKCE S256, state, nonce), the tenant's sign-in page and its
 * form (hidden CSRF field, cookies), the consent page when the application is not first-party,
 * and the redirect back with the code, read from the Location header (the redirect URI is
 * never fetched, so it need not exist).
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Answer, CookieJar, type Http, where } from './http.js';
import { check, StepFailure } from './report.js';

interface Form {
  action: URL;
  hidden: Record<string, string>;
  inputs: { type: string; name: string }[];
}

export interface Callback {
  code: string;
  verifier: string;
  nonce: string;
  /** Whether a consent page was shown (and allowed) on the way. */
  consentShown: boolean;
}

const random = () => randomBytes(32).toString('base64url');

export class BrowserSignIn {
  private readonly jar = new CookieJar();
  private readonly verifier = random();
  private readonly state = random();
  readonly nonce = random();

  constructor(
    private readonly http: Http,
    private readonly issuer: string,
    private readonly clientId: string,
    private readonly redirectUri: string,
  ) {}

  /** The authorization request, followed to the sign-in page (whose answer it returns). */
  async open(authorizationEndpoint: string): Promise<Answer> {
    const request = new URL(authorizationEndpoint);
    for (const [name, value] of Object.entries({
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      response_type: 'code',
      // offline_access for a refresh token; OpenID Connect asks prompt=consent with it.
      scope: 'openid offline_access',
      prompt: 'consent',
      state: this.state,
      nonce: this.nonce,
      code_challenge: createHash('sha256').update(this.verifier).digest('base64url'),
      code_challenge_method: 'S256',
    })) {
      request.searchParams.set(name, value);
    }
    const page = await this.follow(request, { method: 'GET' });
    check(!('code' in page), 'the authorization request came back without showing the sign-in page');
    check(page.status === 200, `the sign-in page ${where(page.url)} answered ${page.status}${problem(page.text)}`);
    return page;
  }

  /**
   * Fills the sign-in form of `page` with the user's email and password, allows on the consent
   * page if one follows, and returns the code from the redirect to the application.
   */
  async signIn(page: Answer, email: string, password: string): Promise<Callback> {
    const signInForm = formsOf(page).find((f) => f.inputs.some((i) => i.type === 'password'));
    check(signInForm, `no sign-in form (one with a password field) on ${where(page.url)}`);
    check(
      Object.keys(signInForm.hidden).some((name) => /csrf|xsrf/i.test(name)),
      'the sign-in form has no CSRF field',
    );
    check(
      signInForm.action.origin === page.url.origin,
      `the sign-in form posts to another origin (${signInForm.action.origin})`,
    );
    const emailField = signInForm.inputs.find((i) => i.type === 'email' || i.name === 'email');
    const passwordField = signInForm.inputs.find((i) => i.type === 'password');
    check(emailField && passwordField, 'the sign-in form has no email field');
    const signedIn = await this.follow(signInForm.action, {
      method: 'POST',
      fields: { ...signInForm.hidden, [emailField.name]: email, [passwordField.name]: password },
    });
    if ('code' in signedIn) return signedIn;
    const consent = formsOf(signedIn).find((f) => f.action.pathname.endsWith('/consent'));
    if (!consent) {
      const refused = formsOf(signedIn).some((f) => f.inputs.some((i) => i.type === 'password'));
      throw new StepFailure(
        refused
          ? `the sign-in was refused (${signedIn.status})${problem(signedIn.text)}`
          : `expected the consent page or the application, got ${signedIn.status} at ${where(signedIn.url)}${problem(signedIn.text)}`,
      );
    }
    const allowed = await this.follow(consent.action, {
      method: 'POST',
      fields: { ...consent.hidden, decision: 'allow' },
    });
    if ('code' in allowed) return { ...allowed, consentShown: true };
    throw new StepFailure(
      `no code after the consent page: ${allowed.status} at ${where(allowed.url)}${problem(allowed.text)}`,
    );
  }

  /**
   * Requests `start` and follows redirects (as GET) until a page answers, or the redirect goes
   * to the application: then the code it carries (state and issuer checked).
   */
  private async follow(
    start: URL,
    first: { method: 'GET' } | { method: 'POST'; fields: Record<string, string> },
  ): Promise<Answer | Callback> {
    let url = start;
    let init: RequestInit =
      first.method === 'POST'
        ? {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(first.fields).toString(),
          }
        : { method: 'GET' };
    for (let hops = 0; hops < 20; hops++) {
      const cookie = this.jar.header(url);
      const headers = { ...(init.headers as Record<string, string> | undefined), ...(cookie ? { cookie } : {}) };
      const answer = await this.http.request(url, { ...init, headers });
      this.jar.store(answer.headers);
      const location = answer.headers.get('location');
      if (answer.status < 300 || answer.status >= 400 || !location) return answer;
      url = new URL(location, url);
      if (this.atApplication(url)) return this.callback(url);
      init = { method: 'GET' };
    }
    throw new StepFailure(`more than 20 redirects from ${where(start)}`);
  }

  private atApplication(url: URL): boolean {
    return `${url.origin}${url.pathname}` === this.redirectUri;
  }

  private callback(url: URL): Callback {
    const params = url.searchParams;
    const error = params.get('error');
    if (error) {
      const description = params.get('error_description');
      throw new StepFailure(`the application got an error: ${error}${description ? `: ${description}` : ''}`);
    }
    check(params.get('state') === this.state, 'the state came back changed');
    // RFC 9207: the issuer names itself in the authorization response.
    check(params.get('iss') === this.issuer, `the response's iss is ${params.get('iss')}, not ${this.issuer}`);
    const code = params.get('code');
    check(code, 'the redirect to the application carries no code');
    return { code, verifier: this.verifier, nonce: this.nonce, consentShown: false };
  }
}

/** The forms of a page: where each posts, its hidden fields, and its other inputs. */
function formsOf(page: Answer): Form[] {
  const forms: Form[] = [];
  for (const match of page.text.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const action = attributes(match[1] ?? '').action ?? '';
    const hidden: Record<string, string> = {};
    const inputs: Form['inputs'] = [];
    for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1] ?? '');
      if (!a.name) continue;
      const type = (a.type ?? 'text').toLowerCase();
      if (type === 'hidden') hidden[a.name] = a.value ?? '';
      else inputs.push({ type, name: a.name });
    }
    forms.push({ action: new URL(action, page.url), hidden, inputs });
  }
  return forms;
}

function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (m[1]) found[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? '');
  }
  return found;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** ": <the page's error message>" when it shows one (or its title), for a failure's line. */
export function problem(html: string): string {
  const shown = /<p class="error"[^>]*>([\s\S]*?)<\/p>/i.exec(html) ?? /<title>([\s\S]*?)<\/title>/i.exec(html);
  const text = decodeEntities((shown?.[1] ?? '').replace(/<[^>]*>/g, ''))
    .replace(/\s+/g, ' ')
    .trim();
  return text ? `: "${text.slice(0, 160)}"` : '';
}
