/**
 * The smoke suite's command line: `latchkey smoke --url <url> [--api-key <key>] [--timeout <s>]`.
 * The API key may come from LATCHKEY_SMOKE_API_KEY instead, so that it does not show in `ps`.
 */

export const smokeUsage = `Usage: latchkey smoke --url <url> [--api-key <key>] [--timeout <seconds>]

Checks a running Latchkey deployment from the outside: health and readiness, the system
tenant's discovery and JWKS, then in a throwaway tenant (smoke-<random>, deleted at the end)
an application, a client-credentials token, a user, a password sign-in with PKCE, refresh
token rotation, the admin console's page and the security headers. One line per step;
exit code 0 when every step passed, 1 when one failed, 2 for bad usage.

Options:
  --url <url>          The deployment's PUBLIC_URL (http or https), e.g. https://login.example.com
  --api-key <key>      A system API key (lk_...) allowed to create and delete tenants;
                       or set LATCHKEY_SMOKE_API_KEY (preferred: a flag shows in \`ps\`)
  --timeout <seconds>  How long each request may take (default 20)
  --help               Show this help

See docs/smoke.md.
`;

export interface SmokeOptions {
  /** The base URL, without a trailing slash. */
  url: string;
  apiKey: string;
  timeoutMs: number;
}

/** Bad usage: printed with a pointer to the help, exit code 2. */
export class UsageError extends Error {}

const defaultTimeoutSeconds = 20;

/** Reads `--name value` and `--name=value`; `--help` returns 'help'. */
export function parseSmokeArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): SmokeOptions | 'help' {
  const given = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    const match = /^--(url|api-key|timeout)(?:=(.*))?$/s.exec(arg);
    if (!match?.[1]) throw new UsageError(`unexpected argument ${shown(arg)}`);
    const name = match[1];
    let value = match[2];
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    if (given.has(name)) throw new UsageError(`--${name} given twice`);
    given.set(name, value);
  }

  const rawUrl = given.get('url');
  if (rawUrl === undefined) throw new UsageError('--url is required (the deployment, e.g. https://login.example.com)');
  const url = parseBaseUrl(rawUrl);

  const apiKey = given.get('api-key') ?? env.LATCHKEY_SMOKE_API_KEY ?? '';
  if (apiKey === '') {
    throw new UsageError('an API key is required: --api-key <key>, or LATCHKEY_SMOKE_API_KEY in the environment');
  }
  if (/\s/.test(apiKey)) throw new UsageError('the API key contains white space');

  const rawTimeout = given.get('timeout') ?? String(defaultTimeoutSeconds);
  const seconds = Number(rawTimeout);
  if (!/^\d+(\.\d+)?$/.test(rawTimeout) || !(seconds > 0) || seconds > 600) {
    throw new UsageError(`--timeout must be a number of seconds between 0 and 600, not "${rawTimeout}"`);
  }
  return { url, apiKey, timeoutMs: Math.round(seconds * 1000) };
}

/** An argument as an error message may show it: never a value that could be the API key. */
function shown(arg: string): string {
  if (arg.startsWith('--')) return `"${arg.replace(/=.*$/s, '=…')}"`;
  return arg.startsWith('lk_') ? '"lk_…" (an API key? use --api-key or LATCHKEY_SMOKE_API_KEY)' : `"${arg}"`;
}

/** An http(s) URL without credentials, query or fragment; its trailing slash removed. */
function parseBaseUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`--url "${raw}" is not a URL (e.g. https://login.example.com)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url must be http or https, not ${parsed.protocol.replace(/:$/, '')}`);
  }
  if (parsed.username || parsed.password) throw new UsageError('--url must not carry a user name or password');
  if (parsed.search || parsed.hash || raw.includes('?') || raw.includes('#')) {
    throw new UsageError('--url must not have a query or fragment');
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
