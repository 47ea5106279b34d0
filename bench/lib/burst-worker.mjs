/**
 * The sender of the oidc scenario's burst (scenarios/oidc.mjs `burstFairness`), in a thread of
 * its own: it prepares `size` sign-in forms of `flow` ("prepare"), then POSTs them all at once
 * with unknown emails from one address ("fire"). An attacker is another machine: in a thread,
 * the burst's answers do not queue in front of the timed sign-in's in the benchmark's own
 * event loop, and each POST is written as prepared bytes on a connection of its own and only
 * its status line read, so that the sender takes as little as it can of the CPU it shares
 * with the server it measures.
 */
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { authorizationRequest, Browser, expectSignInPage } from './browser.mjs';

const { flow, size } = workerData;
let forms = [];

async function form() {
  const browser = new Browser();
  const page = await browser.go(authorizationRequest(flow).url);
  expectSignInPage(page);
  return { browser, page };
}

async function prepare() {
  forms = [];
  for (let i = 0; i < size; i += 20) {
    forms.push(...(await Promise.all(Array.from({ length: Math.min(20, size - i) }, form))));
  }
  return { type: 'ready' };
}

/** POSTs `bytes` on a new connection to `url`'s host; resolves with the answer's status (0: none). */
function send(url, bytes) {
  return new Promise((resolve, reject) => {
    let head = '';
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) }, () =>
      socket.write(bytes),
    );
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      if (head.length < 16) head += chunk.slice(0, 16);
    });
    socket.on('error', reject);
    // The server closes the connection after its answer (`connection: close`).
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
  });
}

async function fire({ round, headers }) {
  const requests = forms.map(({ browser, page }, i) => ({
    url: page.url,
    bytes: browser.rawSubmission(
      page,
      { email: `nobody-${round}-${i}@unknown.example`, password: `guess ${i}` },
      headers,
    ),
  }));
  const t0 = performance.now();
  const answers = {};
  await Promise.all(
    requests.map(async ({ url, bytes }) => {
      const status = await send(url, bytes);
      const key = status === 303 || status === 429 ? status : 'other';
      answers[key] = (answers[key] ?? 0) + 1;
    }),
  );
  return { type: 'done', answers, ms: performance.now() - t0 };
}

parentPort.on('message', async (msg) => {
  try {
    parentPort.postMessage(msg.type === 'prepare' ? await prepare() : await fire(msg));
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
