/**
 * Scenario "tickets" (issue 11): a batch of 1,000 invitation tickets for email keys.
 *
 * The server runs with SMTP_URL pointed at a local SMTP server in this process
 * (`smtp-server`, accepting everything, counting the messages it receives). After a warm-up
 * batch of 20 (delivered, then forgotten), one POST …/ticket-types/{id}/tickets with 1,000
 * distinct email addresses is timed:
 *   answer      request start → the answer (every ticket stored, every invitation queued)
 *   delivered   request start → the SMTP server has received all 1,000 invitations
 * Targets: the answer in under 2 s, all delivered in under 30 s. Each dialect runs `rounds`
 * batches (a fresh ticket type each); the figures are their medians.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { mark } from '../lib/load.mjs';
import { adminApi, logTail, spawnServer, stopServer, waitReady } from '../lib/server.mjs';

export const targets = { answerMs: 2000, deliveredMs: 30_000 };

const BATCH = 1000;
const fmt = (n, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** An SMTP server on 127.0.0.1 that accepts every message and counts them. */
async function countingSmtp() {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 50,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        received += 1;
        callback();
      });
      stream.resume();
    },
  });
  const port = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.server.address().port));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    get received() {
      return received;
    },
    reset() {
      received = 0;
    },
    /** Resolves with the time (performance.now) when `count` have arrived; rejects after `ms`. */
    async until(count, ms) {
      const deadline = performance.now() + ms;
      while (received < count) {
        if (performance.now() > deadline) throw new Error(`only ${received} of ${count} messages arrived`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return performance.now();
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export async function ticketsScenario({ database, rounds = 3, logDir, print }) {
  const smtp = await countingSmtp();
  const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
  const logFile = join(logDir, `server-tickets-${database.dialect}.log`);
  const server = await spawnServer({
    databaseUrl: database.url,
    dataDir: database.dataDir,
    apiKey,
    logFile,
    env: { SMTP_URL: smtp.url, EMAIL_FROM: 'Latchkey <bench@latchkey.test>' },
  });
  const figures = { rounds: [] };
  try {
    await waitReady(server);
    const api = adminApi(server.url, apiKey);
    await api('POST', '/api/v1/tenants', { slug: 'bench', displayName: 'Bench' });
    const batch = async (round, count) => {
      const type = await api('POST', '/api/v1/tenants/bench/ticket-types', {
        name: `round ${round}`,
        welcome: { title: 'Welcome to the benchmark' },
      });
      const keys = Array.from({ length: count }, (_, i) => `invitee-${round}-${i}@bench.test`);
      smtp.reset();
      const t0 = performance.now();
      const answer = await api('POST', `/api/v1/tenants/bench/ticket-types/${type.id}/tickets`, { foreignKeys: keys });
      const answered = performance.now();
      if (answer.issued !== count) throw new Error(`issued ${answer.issued} of ${count}`);
      const delivered = await smtp.until(count, 120_000);
      return { answerMs: answered - t0, deliveredMs: delivered - t0 };
    };
    await batch('warm-up', 20);
    for (let round = 1; round <= rounds; round++) {
      const r = await batch(round, BATCH);
      figures.rounds.push(r);
      print(`  round ${round}: answer ${fmt(r.answerMs)} ms, all ${BATCH} delivered ${fmt(r.deliveredMs / 1000, 1)} s`);
    }
    figures.answerMs = median(figures.rounds.map((r) => r.answerMs));
    figures.deliveredMs = median(figures.rounds.map((r) => r.deliveredMs));
    print(
      `  ${fmt(BATCH)} email tickets, median of ${rounds}: answer ${fmt(figures.answerMs)} ms ${mark(figures.answerMs < targets.answerMs)} (target < ${fmt(targets.answerMs)}), delivered ${fmt(figures.deliveredMs / 1000, 1)} s ${mark(figures.deliveredMs < targets.deliveredMs)} (target < ${targets.deliveredMs / 1000} s)`,
    );
  } catch (err) {
    print(`  server log:\n${logTail(server)}`);
    throw err;
  } finally {
    figures.shutdown = await stopServer(server);
    await smtp.close();
  }
  return figures;
}

export function summaryRows(withMark) {
  return [
    [
      `${fmt(BATCH)} email tickets: answer (median)`,
      `< ${fmt(targets.answerMs)} ms`,
      (r) => withMark(`${fmt(r.answerMs)} ms`, r.answerMs < targets.answerMs),
    ],
    [
      `  all ${fmt(BATCH)} at the SMTP server`,
      `< ${targets.deliveredMs / 1000} s`,
      (r) => withMark(`${fmt(r.deliveredMs / 1000, 1)} s`, r.deliveredMs < targets.deliveredMs),
    ],
  ];
}
