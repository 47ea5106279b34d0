/**
 * A real SMTP server for tests (`smtp-server`, messages parsed with `mailparser`), on
 * 127.0.0.1 and a port it picks: it receives what Latchkey sends and can refuse messages
 * (a 451 to the next `n`) or stop and come back on the same port.
 */
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string | undefined;
  replyTo: string | undefined;
}

export interface TestSmtp {
  url: string;
  port: number;
  received: Received[];
  /** Refuses the next `n` messages with a temporary failure (451). */
  refuse(n: number): void;
  /** Attempts refused so far. */
  refusals: number;
  /** Resolves when `count` messages have arrived (or rejects after `ms`). */
  waitFor(count: number, ms?: number): Promise<Received[]>;
  /** The `count`th message to `address` (waiting up to 15 s for it). */
  messageTo(address: string, count?: number): Promise<Received>;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

const addresses = (v: ParsedMail['to']) =>
  (Array.isArray(v) ? v : v ? [v] : []).flatMap((a) => a.value.map((x) => x.address ?? ''));

/** `port`: where to listen (default: one the kernel picks). */
export async function startSmtp(port = 0): Promise<TestSmtp> {
  const received: Received[] = [];
  let toRefuse = 0;
  const state = { refusals: 0 };
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      // Stopping drops the pooled connections of the client at once (default: waits 30 s).
      closeTimeout: 50,
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((mail) => {
            if (toRefuse > 0) {
              toRefuse--;
              state.refusals++;
              const err = new Error('451 4.3.0 Try again later') as Error & { responseCode: number };
              err.responseCode = 451;
              return callback(err);
            }
            received.push({
              to: addresses(mail.to),
              from: addresses(mail.from)[0] ?? '',
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
              messageId: mail.messageId,
              replyTo: addresses(mail.replyTo)[0],
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      },
    });
  let server = make();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const bound = await listen(port);
  return {
    url: `smtp://127.0.0.1:${bound}`,
    port: bound,
    received,
    refuse(n) {
      toRefuse = n;
    },
    get refusals() {
      return state.refusals;
    },
    async waitFor(count, ms = 15_000) {
      const until = Date.now() + ms;
      while (received.length < count) {
        if (Date.now() > until) throw new Error(`only ${received.length} of ${count} messages arrived`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    async messageTo(address, count = 1) {
      const until = Date.now() + 15_000;
      for (;;) {
        const to = received.filter((m) => m.to.includes(address));
        if (to.length >= count) return to[count - 1] as Received;
        if (Date.now() > until) throw new Error(`no message ${count} to ${address}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async restart() {
      server = make();
      await listen(bound);
    },
  };
}
