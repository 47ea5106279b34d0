/**
 * What the import modal says about a job (`UserImport`, docs/import.md): its progress as a
 * percent and as text, its counts, its status in words, whether to keep polling, and the titles
 * of the upload's refusals. Pure, so the wording is tested without a browser.
 */
import { ApiError } from '../../api/client';
import type { UserImport, UserImportStatus } from '../../api/types';

/** How often a job is read again while it is not finished. */
export const IMPORT_POLL_MS = 1000;

/** What the file picker offers; the server reads the content, whatever the name. */
export const JSON_LINES_ACCEPT = '.jsonl,.ndjson,application/x-ndjson,application/jsonl';

/** The media type the upload is sent as (the server answers 415 to any other). */
export const JSON_LINES_TYPE = 'application/x-ndjson';

const count = new Intl.NumberFormat('en-US');

/** Still moving: uploading, waiting for a worker, or being applied. */
export function isImportActive(status: UserImportStatus): boolean {
  return status === 'receiving' || status === 'queued' || status === 'running';
}

/** The refetch interval of a job's query: every second until it is done or failed. */
export function importPollInterval(job: UserImport | undefined): number | false {
  return job && !isImportActive(job.status) ? false : IMPORT_POLL_MS;
}

/** Lines applied (or checked) out of lines received, 0–100; a finished job is at 100. */
export function importPercent(job: Pick<UserImport, 'status' | 'lines' | 'processed'>): number {
  if (job.status === 'done') return 100;
  if (job.lines <= 0) return 0;
  return Math.min(100, Math.floor((job.processed / job.lines) * 100));
}

/** "3 of 4 lines" (for the bar's aria-valuetext and beside it). */
export function importProgressText(job: Pick<UserImport, 'lines' | 'processed'>): string {
  const total = `${count.format(job.lines)} line${job.lines === 1 ? '' : 's'}`;
  return `${count.format(Math.min(job.processed, job.lines))} of ${total}`;
}

/** "2 created, 1 already there, 1 refused"; a dry run says "would be created". */
export function importCountsText(job: Pick<UserImport, 'dryRun' | 'created' | 'existing' | 'failed'>): string {
  return [
    `${count.format(job.created)} ${job.dryRun ? 'would be created' : 'created'}`,
    `${count.format(job.existing)} already there`,
    `${count.format(job.failed)} refused`,
  ].join(', ');
}

/** The status in words, and the colour of its badge and bar. */
export function importStatus(job: Pick<UserImport, 'status' | 'dryRun'>): { label: string; color: string } {
  switch (job.status) {
    case 'receiving':
      return { label: 'Uploading', color: 'blue' };
    case 'queued':
      return { label: 'Waiting for a worker', color: 'blue' };
    case 'running':
      return { label: job.dryRun ? 'Checking' : 'Importing', color: 'blue' };
    case 'done':
      return { label: job.dryRun ? 'Check done' : 'Done', color: 'green' };
    case 'failed':
      return { label: 'Failed', color: 'red' };
  }
}

/** What a finished job comes to, in one sentence (null while it runs). */
export function importOutcome(job: UserImport): string | null {
  if (job.status === 'failed') return 'The upload did not end: nothing more of it will be applied.';
  if (job.status !== 'done') return null;
  if (job.dryRun) {
    return job.failed > 0
      ? 'Nothing was written. Fix the refused lines, then import the file.'
      : 'Nothing was written. Every line can be imported.';
  }
  return job.failed > 0 ? 'The other lines were imported; refused lines changed nothing.' : 'Every line was imported.';
}

/** A refused line's number as shown; 0 means the upload as a whole. */
export function failureLineLabel(line: number): string {
  return line === 0 ? 'Whole file' : count.format(line);
}

/** The alert title for a refused upload: the status says what kind of problem it is. */
export function importErrorTitle(error: unknown): string {
  if (!(error instanceof ApiError)) return 'The import could not start';
  if (error.status === 0) return 'The server could not be reached';
  if (error.status === 413) return 'The file is too large';
  if (error.status === 415) return 'Not a file of JSON lines';
  if (error.status === 408) return 'The upload stalled';
  return 'The import could not start';
}

/** The export's file name: the server's, else `{slug}-users.jsonl`. */
export function exportFileName(slug: string, fromServer: string | null): string {
  return fromServer ?? `${slug}-users.jsonl`;
}
