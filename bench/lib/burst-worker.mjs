/**
 * The sender of the oidc scenario's burst (scenarios/oidc.mjs `burstFairness`), in a thread of
 * its own: it prepares `size` sign-in forms of `flow` ("prepare"), then POSTs them all at once
 * with unknown emails from one address ("fire"). An attacker is another machine: in a thread,
 * the burst's answers do not queue in front of the timed sign-in's in the benchmark's own
 * event loop (the CPU is still shared).
 */
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

async function fire({ round, headers }) {
  const t0 = performance.now();
  const answers = {};
  await Promise.all(
    forms.map(async ({ browser, page }, i) => {
      const res = await browser.submit(
        page,
        { email: `nobody-${round}-${i}@unknown.example`, password: `guess ${i}` },
        { follow: false, headers },
      );
      // follow: false gives a redirect as status 0; anything else is the answer's own status.
      const key = res.status === 0 ? 303 : res.status === 429 ? 429 : 'other';
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
