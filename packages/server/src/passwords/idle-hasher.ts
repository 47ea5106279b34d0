/**
 * A thread of its own that hashes at the lowest CPU priority (nice 19), for the attempts of a
 * source that asks for more than one hash at a time (passwords/hash.ts). Its work then takes
 * only the CPU that nothing else wants: on an idle machine it runs as fast as any hash, but a
 * burst from one address no longer takes CPU from another tenant's sign-in, from the requests
 * the main thread answers, or from PostgreSQL. Linux gives each thread its own nice value;
 * elsewhere (or if the thread cannot start) `start` gives undefined and every hash runs in
 * libuv's pool as before.
 *
 * One job at a time: the queue in front of it is the hasher's, bounded and fair.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** The thread's program (CommonJS, evaluated): lower its own priority, then hash what it is sent. */
const program = `
const { parentPort, workerData } = require('node:worker_threads');
const argon2 = require(workerData.argon2);
let lowered = false;
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, 19);
  lowered = true;
} catch {}
parentPort.postMessage({ ready: lowered });
parentPort.on('message', ({ id, op, a, b, params }) => {
  let answer;
  try {
    answer = { id, result: op === 'hash' ? argon2.hashSync(a, params) : argon2.verifySync(a, b) };
  } catch (err) {
    answer = { id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort.postMessage(answer);
});
`;

interface Pending {
  resolve: (value: string | boolean) => void;
  reject: (err: Error) => void;
}

export class IdleHasher {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failed: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; result?: string | boolean; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result as string | boolean);
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the idle-priority hash thread stopped')));
    // It keeps the process alive only while it has work, as libuv's pool does.
    worker.unref();
  }

  /** The thread, once it runs at the lowest priority; undefined where that is not possible. */
  static async start(log?: Logger): Promise<IdleHasher | undefined> {
    const argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');
    const worker = new Worker(program, {
      eval: true,
      workerData: { argon2 },
      // Hashing needs no JavaScript heap to speak of; argon2's memory is native.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    });
    const ready = await new Promise<boolean>((resolve) => {
      worker.once('message', (m: { ready: boolean }) => resolve(m.ready));
      worker.once('error', () => resolve(false));
    });
    if (!ready) {
      log?.info('the idle-priority hash thread is not available here: every hash runs at normal priority');
      await worker.terminate();
      return undefined;
    }
    return new IdleHasher(worker);
  }

  /** Whether the thread still runs (a stopped one gives its work back to libuv's pool). */
  get usable(): boolean {
    return this.failed === undefined;
  }

  hash(password: string, params: object): Promise<string> {
    return this.ask('hash', password, undefined, params) as Promise<string>;
  }

  verify(phc: string, password: string): Promise<boolean> {
    return this.ask('verify', phc, password) as Promise<boolean>;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private ask(op: 'hash' | 'verify', a: string, b?: string, params?: object): Promise<string | boolean> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, a, b, params });
    });
  }
}
