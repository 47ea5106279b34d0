/**
 * Runs the smoke suite's steps one after another and prints a line per step: PASS, FAIL or
 * SKIP (an earlier step it needs failed), its name, its duration and what it found.
 */

/** A step's failure, said in a sentence for its line. */
export class StepFailure extends Error {}

/** Throws a StepFailure with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepFailure(message);
}

export interface Output {
  write(text: string): unknown;
}

/** What a step's work may add to its line. */
export interface StepContext {
  /** Appends to the line's details (a version, a key count, a header value). */
  note(text: string): void;
}

type Present<D extends readonly unknown[]> = { [K in keyof D]: NonNullable<D[K]> };

const nameWidth = 40;

export class Report {
  passed = 0;
  failed = 0;
  skipped = 0;
  private readonly started = performance.now();

  constructor(
    private readonly out: Output,
    /** Once aborted (the run was interrupted), the steps left are skipped. */
    private readonly interrupted?: AbortSignal,
  ) {}

  /** Runs `work` as the step `name`; its result, or undefined when it failed. */
  async step<T>(name: string, work: (ctx: StepContext) => Promise<T>): Promise<T | undefined> {
    if (this.interrupted?.aborted) {
      this.skip(name, 'interrupted');
      return undefined;
    }
    return this.always(name, work);
  }

  /** Runs `work` as the step `name` even once the run is interrupted (the cleanup). */
  async always<T>(name: string, work: (ctx: StepContext) => Promise<T>): Promise<T | undefined> {
    const notes: string[] = [];
    const begun = performance.now();
    try {
      const value = await work({ note: (text) => void notes.push(text) });
      this.passed++;
      this.line('PASS', name, performance.now() - begun, notes.join('; '));
      return value;
    } catch (err) {
      this.failed++;
      const reason = err instanceof StepFailure ? err.message : `unexpected error: ${describeError(err)}`;
      this.line('FAIL', name, performance.now() - begun, [...notes, reason].join('; '));
      return undefined;
    }
  }

  /**
   * Runs `work` with what earlier steps gave (`needs`), or prints the step as skipped when one
   * of them failed (gave undefined).
   */
  async after<const D extends readonly unknown[], T>(
    needs: D,
    name: string,
    work: (given: Present<D>, ctx: StepContext) => Promise<T>,
  ): Promise<T | undefined> {
    if (needs.some((n) => n === undefined || n === null)) {
      this.skip(name, this.interrupted?.aborted ? 'interrupted' : 'an earlier step it needs failed');
      return undefined;
    }
    return this.step(name, (ctx) => work(needs as Present<D>, ctx));
  }

  /** Prints `name` as not run, and why. */
  skip(name: string, reason: string): void {
    this.skipped++;
    this.line('SKIP', name, undefined, reason);
  }

  /** The last line: the counts, the total time, and the verdict. */
  summary(): void {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const verdict = this.interrupted?.aborted
      ? 'smoke suite INTERRUPTED'
      : this.failed === 0
        ? 'smoke suite passed'
        : 'smoke suite FAILED';
    this.out.write(
      `\n${verdict}: ${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped in ${seconds} s\n`,
    );
  }

  print(text: string): void {
    this.out.write(`${text}\n`);
  }

  private line(status: 'PASS' | 'FAIL' | 'SKIP', name: string, ms: number | undefined, details: string): void {
    const duration = ms === undefined ? '' : `${Math.round(ms)} ms`;
    const text = `${status}  ${name.padEnd(nameWidth)} ${duration.padStart(8)}${details ? `  ${details}` : ''}`;
    this.out.write(`${text.trimEnd()}\n`);
  }
}

/** An unexpected error in one line, with its cause when fetch wrapped one. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message}` : '';
  return `${err.message}${cause}`;
}
