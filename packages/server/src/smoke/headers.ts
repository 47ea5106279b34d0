/**
 * The security headers the smoke suite asks of a deployment, by kind of answer. An HTML page
 * (the sign-in page) must carry a Content-Security-Policy, nosniff, a strict referrer policy
 * and frame protection; a JSON answer of the admin API must carry nosniff, no-store, frame
 * protection and a referrer policy that sends nothing on (what Latchkey gives every admin API
 * answer: should a browser ever be made to open one as a page, it can neither be framed nor
 * leak its URL). Over https both need HSTS (Latchkey sets it when PUBLIC_URL is https; a
 * proxy may add it where TLS ends).
 */

/** Referrer policies that never send a path to another origin. */
const strictReferrerPolicies = new Set([
  'no-referrer',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
]);

/** What is wrong with the headers of an HTML page (empty: nothing); `found` says what is right. */
export function pageHeaderProblems(headers: Headers, html: string, https: boolean, found: string[]): string[] {
  const problems: string[] = [];
  const csp = headers.get('content-security-policy');
  if (!csp) problems.push('no Content-Security-Policy');
  else found.push('CSP');
  nosniff(headers, problems, found);

  // The policy may come as a header or, for the page itself, as <meta name="referrer"> (W3C Referrer Policy 4.2).
  const header = lastToken(headers.get('referrer-policy'));
  const meta = /<meta\s+name="referrer"\s+content="([^"]*)"/i.exec(html)?.[1]?.trim().toLowerCase();
  const policy = header || meta;
  if (!policy) problems.push('no Referrer-Policy (header or <meta name="referrer">)');
  else if (!strictReferrerPolicies.has(policy)) problems.push(`Referrer-Policy "${policy}" sends paths to other sites`);
  else found.push(`Referrer-Policy ${policy}${header ? '' : ' (meta)'}`);

  frames(headers, problems, found);
  if (https) hsts(headers, problems, found);
  return problems;
}

/** What is wrong with the headers of an admin API answer (JSON). */
export function apiHeaderProblems(headers: Headers, https: boolean, found: string[]): string[] {
  const problems: string[] = [];
  const type = headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) problems.push(`Content-Type "${type}", not application/json`);
  nosniff(headers, problems, found);
  const cache = headers.get('cache-control') ?? '';
  if (!/\bno-store\b/i.test(cache)) problems.push(`Cache-Control "${cache}" lacks no-store`);
  else found.push('no-store');
  frames(headers, problems, found);
  const policy = lastToken(headers.get('referrer-policy'));
  if (policy !== 'no-referrer') problems.push(`Referrer-Policy "${policy}", not no-referrer`);
  else found.push('Referrer-Policy no-referrer');
  if (https) hsts(headers, problems, found);
  return problems;
}

/** Frame protection: CSP frame-ancestors (but `*`), or X-Frame-Options DENY or SAMEORIGIN. */
function frames(headers: Headers, problems: string[], found: string[]): void {
  const csp = headers.get('content-security-policy') ?? '';
  const frameOptions = headers.get('x-frame-options')?.trim().toUpperCase();
  const ancestors = /(?:^|;)\s*frame-ancestors\s+([^;]*)/i.exec(csp)?.[1]?.trim();
  if (ancestors && ancestors !== '*') found.push(`frame-ancestors ${ancestors}`);
  else if (frameOptions === 'DENY' || frameOptions === 'SAMEORIGIN') found.push(`X-Frame-Options ${frameOptions}`);
  else problems.push('no frame protection (CSP frame-ancestors or X-Frame-Options DENY/SAMEORIGIN)');
}

function nosniff(headers: Headers, problems: string[], found: string[]): void {
  if (headers.get('x-content-type-options')?.trim().toLowerCase() === 'nosniff') found.push('nosniff');
  else problems.push('no X-Content-Type-Options: nosniff');
}

function hsts(headers: Headers, problems: string[], found: string[]): void {
  const value = headers.get('strict-transport-security');
  const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(value ?? '')?.[1] ?? 0);
  if (!value) problems.push('no Strict-Transport-Security (add it where TLS ends)');
  else if (maxAge <= 0) problems.push(`Strict-Transport-Security "${value}" has no positive max-age`);
  else found.push(`HSTS max-age=${maxAge}`);
}

/** The policy that applies when a header lists several (the last one the browser knows). */
function lastToken(value: string | null): string {
  return (
    (value ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean)
      .at(-1) ?? ''
  );
}
