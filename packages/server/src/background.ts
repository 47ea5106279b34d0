/**
 * A background job that runs in rounds (the email sender, the user import worker): started
 * and stopped by main.ts, woken after a commit that gave it work, and otherwise polling. A
 * round never overlaps another: a wake-up during one runs another right after it. Errors of
 * a round are logged and the job tries again at its next poll; nothing keeps the process alive.
 */
import type { Logger } from 'pino';

export interface RoundJob {
  /** Does what there is to do; returns until when (ms epoch) to wait at most, or undefined for the poll. */
  round(stopped: () => boolean): Promise<number | undefined>;
  /** Logged when a round throws. */
  failure: string;
  /** How long to wait between rounds without a wake-up. */
  pollMs: number;
}

export class BackgroundRounds {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly job: RoundJob,
    private readonly log: Logger,
  ) {}

  /** Starts the rounds: one at once. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops; resolves when a round under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.idle;
  }

  /** A round now (or right after the one under way). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.idle = this.run();
    }, ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.running = true;
    let next: number | undefined;
    const stopped = () => this.stopped;
    try {
      do {
        this.again = false;
        next = await this.job.round(stopped);
      } while (this.again && !this.stopped);
    } catch (err) {
      this.log.error({ err }, this.job.failure);
    } finally {
      this.running = false;
    }
    const poll = this.job.pollMs;
    this.schedule(next === undefined ? poll : Math.min(poll, Math.max(0, next - Date.now())));
  }
}
