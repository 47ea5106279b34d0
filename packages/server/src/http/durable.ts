/**
 * Answers held until the database has made every write so far durable (`answeringWhenDurable`),
 * and the one exception: an answer that acknowledges no write and shows nothing written
 * since the last fsync may go out at once (`answerAtOnce`).
 */
import { ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** Responses that go out at once, without waiting for durability (see `answerAtOnce`). */
const atOnce = new WeakSet<ServerResponse>();

/**
 * Lets `res` go out without waiting for the database's pending writes to be durable. Only for
 * an answer that acknowledges no write and whose content depends on nothing written that may
 * not be durable yet (the sign-in form's "try again later" refusal, login/admission.ts); to be
 * called before anything is written to it.
 */
export function answerAtOnce(res: ServerResponse): void {
  atOnce.add(res);
}

/**
 * The responses of an HTTP server whose answers wait for the database to make every write so
 * far durable (`Database.whenDurable`): the first byte of any answer, from any route or
 * library, goes out only after it; until then what the answer writes is held, in order.
 * Should that fail, the connection is dropped rather than anything confirmed.
 */
export function answeringWhenDurable(whenDurable: () => Promise<void> | undefined, log: Logger): typeof ServerResponse {
  let reported = false;
  type Call = [original: (...args: unknown[]) => unknown, args: unknown[]];
  const held = new WeakMap<ServerResponse, Call[]>();
  class DurableResponse extends ServerResponse {}
  // write, end and flushHeaders are where bytes leave (end and write have overloads that a
  // subclass method cannot restate, hence the prototype).
  for (const name of ['write', 'end', 'flushHeaders'] as const) {
    const original = ServerResponse.prototype[name] as (this: ServerResponse, ...args: unknown[]) => unknown;
    Object.defineProperty(DurableResponse.prototype, name, {
      value(this: ServerResponse, ...args: unknown[]) {
        let queue = held.get(this);
        if (!queue) {
          if (atOnce.has(this)) return original.apply(this, args);
          const wait = whenDurable();
          if (!wait) return original.apply(this, args);
          const calls: Call[] = [];
          queue = calls;
          held.set(this, calls);
          wait.then(
            () => {
              held.delete(this);
              try {
                for (const [fn, a] of calls) fn.apply(this, a);
              } catch (err) {
                this.destroy(err as Error);
              }
            },
            (err: Error) => {
              held.delete(this);
              if (!reported) {
                reported = true;
                log.fatal({ err }, 'the database could not make writes durable; answers are dropped until a restart');
              }
              this.destroy(err);
            },
          );
        }
        queue.push([original, args]);
        return name === 'write' ? true : name === 'end' ? this : undefined;
      },
    });
  }
  return DurableResponse as typeof ServerResponse;
}
