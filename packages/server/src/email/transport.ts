/**
 * The SMTP transport of SMTP_URL (nodemailer): `smtp://user:pass@host:587` speaks STARTTLS
 * when the server offers it (`?requireTLS=true` insists on it), `smtps://…:465` TLS from the
 * start. A small pool of connections, with timeouts, so that a server that stops answering
 * holds no message for long: the outbox retries it.
 */
import nodemailer, { type Transporter } from 'nodemailer';

export function smtpTransport(url: string): Transporter {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  const auth = u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined;
  return nodemailer.createTransport({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port) || (secure ? 465 : 587),
    secure,
    requireTLS: u.searchParams.get('requireTLS') === 'true',
    ...(auth ? { auth } : {}),
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}
