/**
 * An SMTP server on 127.0.0.1 that accepts every message and counts them, on a thread of its
 * own: the event loop that times requests is not the one that answers the server under test's
 * SMTP connection (which, for a message sent right after an answer, would delay that answer's
 * arrival and be counted in it). The count is a shared integer; nothing is posted per message.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SMTPServer } from 'smtp-server';

if (!isMainThread && workerData?.smtpCounter) {
  const counter = workerData.smtpCounter;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 50,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        Atomics.add(counter, 0, 1);
        callback();
      });
      stream.resume();
    },
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.server.address().port));
}

/** Starts the thread; resolves when it listens. `received` counts since the last `reset`. */
export async function countingSmtpThread() {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL(import.meta.url), { workerData: { smtpCounter: counter } });
  const port = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let base = 0;
  const received = () => Atomics.load(counter, 0) - base;
  return {
    url: `smtp://127.0.0.1:${port}`,
    get received() {
      return received();
    },
    reset() {
      base = Atomics.load(counter, 0);
    },
    /** Resolves with the time (performance.now) when `count` have arrived; rejects after `ms`. */
    async until(count, ms) {
      const deadline = performance.now() + ms;
      while (received() < count) {
        if (performance.now() > deadline) throw new Error(`only ${received()} of ${count} messages arrived`);
        await new Promise((r) => setTimeout(r, 1));
      }
      return performance.now();
    },
    close: () => worker.terminate(),
  };
}
