import { describe, expect, it } from 'vitest';
import { ApiError, fileNameOf } from '../../api/client';
import type { UserImport } from '../../api/types';
import {
  exportFileName,
  failureLineLabel,
  IMPORT_POLL_MS,
  importCountsText,
  importErrorTitle,
  importOutcome,
  importPercent,
  importPollInterval,
  importProgressText,
  importStatus,
  isImportActive,
} from './importProgress';

const job = (patch: Partial<UserImport> = {}): UserImport => ({
  id: 'imp_1',
  status: 'running',
  dryRun: false,
  lines: 4,
  processed: 2,
  created: 1,
  existing: 0,
  failed: 1,
  failures: [{ line: 2, code: 'invalid_json', message: 'Not JSON' }],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  finishedAt: null,
  ...patch,
});

describe('import progress', () => {
  it('is a percent of the lines received, floored, 100 once done, 0 before any line', () => {
    expect(importPercent(job())).toBe(50);
    expect(importPercent(job({ lines: 3, processed: 2 }))).toBe(66);
    expect(importPercent(job({ lines: 0, processed: 0, status: 'queued' }))).toBe(0);
    expect(importPercent(job({ lines: 0, processed: 0, status: 'done' }))).toBe(100);
    expect(importPercent(job({ lines: 4, processed: 3, status: 'done' }))).toBe(100);
    expect(importPercent(job({ lines: 4, processed: 9 }))).toBe(100);
  });

  it('says lines as text, with thousands separators and never past the total', () => {
    expect(importProgressText(job())).toBe('2 of 4 lines');
    expect(importProgressText(job({ lines: 1, processed: 0 }))).toBe('0 of 1 line');
    expect(importProgressText(job({ lines: 1_000_000, processed: 12_345 }))).toBe('12,345 of 1,000,000 lines');
    expect(importProgressText(job({ lines: 4, processed: 5 }))).toBe('4 of 4 lines');
  });

  it('counts created, existing and refused lines; a dry run says what would be', () => {
    expect(importCountsText(job({ created: 2, existing: 1, failed: 1 }))).toBe('2 created, 1 already there, 1 refused');
    expect(importCountsText(job({ dryRun: true, created: 1200, existing: 0, failed: 0 }))).toBe(
      '1,200 would be created, 0 already there, 0 refused',
    );
  });

  it('polls every second until the job is done or failed', () => {
    expect(importPollInterval(undefined)).toBe(IMPORT_POLL_MS);
    for (const status of ['receiving', 'queued', 'running'] as const) {
      expect(isImportActive(status)).toBe(true);
      expect(importPollInterval(job({ status }))).toBe(IMPORT_POLL_MS);
    }
    for (const status of ['done', 'failed'] as const) {
      expect(isImportActive(status)).toBe(false);
      expect(importPollInterval(job({ status }))).toBe(false);
    }
  });

  it('names each status, and what a finished job comes to', () => {
    expect(importStatus(job({ status: 'queued' })).label).toBe('Waiting for a worker');
    expect(importStatus(job({ status: 'running', dryRun: true })).label).toBe('Checking');
    expect(importStatus(job({ status: 'done' }))).toEqual({ label: 'Done', color: 'green' });
    expect(importStatus(job({ status: 'done', dryRun: true })).label).toBe('Check done');
    expect(importStatus(job({ status: 'failed' })).color).toBe('red');
    expect(importOutcome(job())).toBeNull();
    expect(importOutcome(job({ status: 'done' }))).toBe(
      'The other lines were imported; refused lines changed nothing.',
    );
    expect(importOutcome(job({ status: 'done', failed: 0 }))).toBe('Every line was imported.');
    expect(importOutcome(job({ status: 'done', dryRun: true, failed: 0 }))).toBe(
      'Nothing was written. Every line can be imported.',
    );
    expect(importOutcome(job({ status: 'failed' }))).toMatch(/did not end/);
  });

  it('titles an upload refused by status, and shows line 0 as the whole file', () => {
    expect(importErrorTitle(new ApiError(413, 'too_many_lines', 'At most 1000000 lines'))).toBe(
      'The file is too large',
    );
    expect(importErrorTitle(new ApiError(415, 'unsupported_media_type', 'Send x-ndjson'))).toBe(
      'Not a file of JSON lines',
    );
    expect(importErrorTitle(new ApiError(0, 'network_error', 'offline'))).toBe('The server could not be reached');
    expect(importErrorTitle(new ApiError(400, 'validation_failed', 'bad'))).toBe('The import could not start');
    expect(importErrorTitle(new Error('boom'))).toBe('The import could not start');
    expect(failureLineLabel(0)).toBe('Whole file');
    expect(failureLineLabel(12_000)).toBe('12,000');
  });

  it('names the export as the server does, else after the tenant', () => {
    expect(exportFileName('acme', 'acme-users.jsonl')).toBe('acme-users.jsonl');
    expect(exportFileName('acme', null)).toBe('acme-users.jsonl');
    expect(fileNameOf('attachment; filename="acme-users.jsonl"')).toBe('acme-users.jsonl');
    expect(fileNameOf('attachment; filename=acme-users.jsonl')).toBe('acme-users.jsonl');
    expect(fileNameOf('attachment; filename="../etc/passwd"')).toBeNull();
    expect(fileNameOf('attachment')).toBeNull();
    expect(fileNameOf(null)).toBeNull();
  });
});
