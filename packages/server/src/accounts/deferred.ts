/**
 * Work a page does after its answer, at a random moment 0.2 to 2 seconds later: the
 * forgot-password form's lookup and message. Run at once after the answer, a known address's
 * extra work (a link, a message, a transaction; on SQLite one synchronous block and a disk
 * flush) would delay whatever the same client sends next, which tells a known address from an
 * unknown one (bench: BENCH_SCENARIOS=accounts). At most `max` jobs wait at once (past it, a
 * job is dropped: the answer was the same anyway); on close, those waiting run at once and
 * are awaited, so that none is lost by a restart.
 */
import { randomInt } from 'node:crypto';

export class DeferredWork {
  private readonly waiting = new Map<NodeJS.Timeout, () => Promise<void>>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly max: number,
    private readonly onError: (err: unknown) => void,
    private readonly delayMs: [min: number, max: number] = [200, 2000],
  ) {}

  /** False (and nothing done) when `max` jobs wait or run already. */
  later(job: () => Promise<void>): boolean {
    if (this.waiting.size + this.running.size >= this.max) return false;
    const timer = setTimeout(() => this.start(timer), randomInt(this.delayMs[0], this.delayMs[1]));
    this.waiting.set(timer, job);
    return true;
  }

  private start(timer: NodeJS.Timeout): void {
    const job = this.waiting.get(timer);
    this.waiting.delete(timer);
    if (!job) return;
    const run = job()
      .catch(this.onError)
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Runs every waiting job now, and waits for all under way. */
  async flush(): Promise<void> {
    for (const timer of [...this.waiting.keys()]) {
      clearTimeout(timer);
      this.start(timer);
    }
    await Promise.all([...this.running]);
  }
}
