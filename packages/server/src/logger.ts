/**
 * The process's logger (pino, JSON lines) and the one place where what is logged is kept
 * free of secrets: `redactSecrets` takes the values of secret query parameters out of any
 * URL or text (and a ticket page's secret from its path), and the serializers apply it to every `url`, `req` and `err` logged, by
 * Fastify, oidc-provider's listeners or our own code. Headers and bodies are never logged.
 */
import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
import type { Config } from './config.js';

/**
 * Query parameters whose values are secrets (or personal data): authorization codes and
 * their verifiers, every kind of token and token hint (`id_token_hint`, `login_hint`),
 * client secrets and assertions, passwords, tickets, keys and signatures, including the
 * links of later features (`token=`, `ticket=`, `reset_token=`). `state`, `nonce`,
 * `client_id`, `redirect_uri` and `code_challenge` are kept: they help and redeem nothing.
 */
const secretParameter =
  /^(?:[a-z0-9]+[_-])*(?:code|verifier|token|hint|secret|assertion|password|ticket|key|otp|signature|sig)$|^request$/i;

/** `name=value` pairs at the start, or after `?`, `&`, `;` or `#`; the value ends at the next of these or a space. */
const parameterPair = /(^|[?&;#])([^=&;#?\s]+)=([^&;#\s]*)/g;

function parameterName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * `text` (a URL, a query string, or a message quoting one) with the value of every secret
 * parameter replaced by `[redacted]`: `/t/acme/cb?code=abc&state=s` → `/t/acme/cb?code=[redacted]&state=s`.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(parameterPair, (pair, start: string, name: string) =>
      secretParameter.test(parameterName(name)) ? `${start}${name}=[redacted]` : pair,
    )
    .replace(ticketPath, '$1[redacted]');
}

/** A ticket page's path holds its secret (`/t/{slug}/tickets/{secret}`, tickets/page.ts), percent-encoded or not. */
const ticketPath = /(\/t\/[^/?#\s]+\/tickets\/)[^/?#\s"]+/g;

function redactedError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const field of ['message', 'stack']) {
    if (typeof out[field] === 'string') out[field] = redactSecrets(out[field]);
  }
  return out;
}

/** A request as logged: what was asked and by whom, never its headers or body. */
function redactedRequest(req: { method?: string; url?: string; ip?: string; id?: string }) {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactSecrets(req.url),
    ip: req.ip,
    id: req.id,
  };
}

/** `destination`: where the JSON lines go (stdout by default; a test captures them). */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'latchkey' },
      serializers: {
        url: (url: unknown) => (typeof url === 'string' ? redactSecrets(url) : url),
        req: redactedRequest,
        err: redactedError,
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          'password',
          '*.password',
          'secret',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
