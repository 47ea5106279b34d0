/**
 * `latchkey smoke`: checks a running deployment from the outside (docs/smoke.md). Exit code 0
 * when every step passed, 1 when one failed, 2 for bad usage, 130 when interrupted (the
 * throwaway tenant is deleted first all the same).
 */
import { parseSmokeArgs, smokeUsage, UsageError } from './options.js';
import { type Output, Report } from './report.js';
import { runSuite } from './suite.js';

export async function smoke(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: Output,
  err: Output,
): Promise<number> {
  let options: ReturnType<typeof parseSmokeArgs>;
  try {
    options = parseSmokeArgs(args, env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`latchkey smoke: ${e.message}\nsee latchkey smoke --help\n`);
    return 2;
  }
  if (options === 'help') {
    out.write(smokeUsage);
    return 0;
  }

  // SIGINT/SIGTERM: the request under way is abandoned, the steps left are skipped, the tenant deleted.
  const interruption = new AbortController();
  const interrupt = () => interruption.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const report = new Report(out, interruption.signal);
  try {
    await runSuite(options, report, interruption.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  report.summary();
  if (interruption.signal.aborted) return 130;
  return report.failed === 0 ? 0 : 1;
}
