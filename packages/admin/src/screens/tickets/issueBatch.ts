/**
 * Issuing a batch of tickets from the console: foreign keys read from pasted text or a file (one
 * per line), checked as the API checks them, sent in chunks of CHUNK_SIZE keys (one request and
 * one transaction each) with the progress reported after each, stopping at the first refusal; and
 * the results as CSV, since their URLs are shown only once.
 */
import type { IssuedTicket, IssueOutcome, IssueResult } from '../../api/types';

/** Keys per request: well under the API's 10,000, so the bar moves and a refusal costs one chunk. */
export const CHUNK_SIZE = 500;
/** The API's limit on one key (after trimming). */
export const FOREIGN_KEY_MAX_LENGTH = 320;

export interface KeyProblem {
  /** 1-based line of the text. */
  line: number;
  key: string;
  message: string;
}

export interface ParsedKeys {
  /** Distinct keys, trimmed, in the order first given. */
  keys: string[];
  /** Lines that repeated a key already given (left out). */
  duplicates: number;
  /** Keys the API would refuse: nothing is sent while there are any. */
  problems: KeyProblem[];
  /** A CSV's header row, left out (its first field). */
  header: string | null;
}

/** First fields a CSV's header row has (this console's own download starts with `foreignKey`). */
const HEADER_NAMES = new Set(['foreignkey', 'foreign key', 'foreign_key', 'key', 'email', 'e-mail', 'id']);

const looksLikeEmail = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The key two lines count as one by: an email address in its stored form (NFKC, lower case), as
 * the API takes it, else the key as given. Two spellings of one address would otherwise land in
 * two chunks, and the second would skip or reissue the ticket the first just issued.
 */
export function keyIdentity(key: string): string {
  const normalized = key.normalize('NFKC').toLowerCase();
  return looksLikeEmail.test(normalized) ? normalized : key;
}

/** The first field of a CSV line: `"a, b",c` → `a, b`; `x,y` → `x`. */
export function firstCsvField(line: string): string {
  const trimmed = line.trimStart();
  if (!trimmed.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma === -1 ? line : line.slice(0, comma);
  }
  let out = '';
  for (let i = 1; i < trimmed.length; i++) {
    const c = trimmed[i];
    if (c === '"') {
      if (trimmed[i + 1] === '"') {
        out += '"';
        i++;
      } else {
        return out;
      }
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Foreign keys from text, one per line: each trimmed, blank lines ignored, repeats left out.
 * With `csv`, a line's first field is the key (the rest of the row is ignored), and a first row
 * that names the column (`email`, `foreignKey`, `id`…) is a header, not a key.
 */
export function parseForeignKeys(text: string, options: { csv?: boolean } = {}): ParsedKeys {
  const keys: string[] = [];
  const seen = new Set<string>();
  const problems: KeyProblem[] = [];
  let duplicates = 0;
  let header: string | null = null;
  let first = true;
  const lines = text.split(/\r\n|\n|\r/);
  for (const [index, raw] of lines.entries()) {
    const key = (options.csv ? firstCsvField(raw) : raw).trim();
    if (key === '') continue;
    const line = index + 1;
    if (first && options.csv && HEADER_NAMES.has(key.toLowerCase())) {
      header = key;
      first = false;
      continue;
    }
    first = false;
    if (controlCharacter.test(key)) {
      problems.push({ line, key, message: 'holds a control character (a tab, say)' });
      continue;
    }
    if (key.length > FOREIGN_KEY_MAX_LENGTH) {
      problems.push({ line, key, message: `longer than ${FOREIGN_KEY_MAX_LENGTH} characters` });
      continue;
    }
    const identity = keyIdentity(key);
    if (seen.has(identity)) {
      duplicates++;
      continue;
    }
    seen.add(identity);
    keys.push(key);
  }
  return { keys, duplicates, problems, header };
}

/** Whether a file's name says it is CSV (its first column is then the key). */
export function isCsvFile(name: string): boolean {
  return /\.csv$/i.test(name);
}

export function chunk<T>(list: readonly T[], size = CHUNK_SIZE): T[][] {
  if (size < 1) throw new RangeError('chunk size must be at least 1');
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export interface BatchCounts {
  issued: number;
  reissued: number;
  skipped: number;
}

export const noCounts = (): BatchCounts => ({ issued: 0, reissued: 0, skipped: 0 });

export interface BatchProgress {
  /** Keys answered so far. */
  done: number;
  total: number;
  items: IssuedTicket[];
  counts: BatchCounts;
}

export interface BatchRun extends BatchProgress {
  /** The refusal that stopped it (the keys from `done` on were not sent, or not taken). */
  error: unknown;
  /** Stopped on request before every key was sent. */
  stopped: boolean;
}

/**
 * Sends `keys` in chunks, one after the other, through `send`; `onProgress` hears after each
 * chunk. The first error stops it: what came before stays issued (each chunk is its own
 * transaction), that chunk and the rest are not. `shouldStop` is asked before each chunk.
 * `resume` continues an earlier run of the same keys from where it ended (a retry of the rest).
 */
export async function runBatch(
  keys: readonly string[],
  send: (chunk: string[]) => Promise<IssueResult>,
  options: {
    chunkSize?: number;
    onProgress?: (progress: BatchProgress) => void;
    shouldStop?: () => boolean;
    resume?: BatchProgress;
  } = {},
): Promise<BatchRun> {
  const { resume } = options;
  const progress: BatchProgress = {
    done: resume?.done ?? 0,
    total: keys.length,
    items: [...(resume?.items ?? [])],
    counts: { ...(resume?.counts ?? noCounts()) },
  };
  for (const part of chunk(keys.slice(progress.done), options.chunkSize)) {
    if (options.shouldStop?.()) return { ...progress, error: null, stopped: true };
    let answer: IssueResult;
    try {
      answer = await send(part);
    } catch (error) {
      return { ...progress, error, stopped: false };
    }
    progress.items = [...progress.items, ...answer.items];
    progress.counts = {
      issued: progress.counts.issued + answer.issued,
      reissued: progress.counts.reissued + answer.reissued,
      skipped: progress.counts.skipped + answer.skipped,
    };
    progress.done += part.length;
    options.onProgress?.({ ...progress });
  }
  return { ...progress, error: null, stopped: false };
}

/** A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. */
function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A key a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading
 * `'`: keys may come from another system, and this file is opened in spreadsheets.
 */
export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export const CSV_HEADER = ['foreignKey', 'result', 'ticketId', 'url'] as const;

/** The results as CSV (CRLF lines, a header row): one row per key; `url` empty when skipped. */
export function resultsCsv(items: readonly IssuedTicket[]): string {
  const rows = [CSV_HEADER.join(',')];
  for (const item of items) {
    rows.push([neutralizeFormula(item.foreignKey), item.result, item.ticketId, item.url ?? ''].map(csvCell).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** A file name for the results: `tickets-{type}-{yyyy-mm-dd-hhmm}.csv`, in the admin's time. */
export function resultsFileName(typeName: string, at: Date): string {
  const name =
    typeName
      .normalize('NFKD')
      .replace(/[^\w-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .toLowerCase()
      .slice(0, 60) || 'type';
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}`;
  return `tickets-${name}-${stamp}.csv`;
}

export const OUTCOME_LABELS: Record<IssueOutcome, string> = {
  issued: 'Issued',
  reissued: 'Reissued',
  skipped: 'Skipped',
};

/** "3 issued, 1 reissued, 2 skipped" (what is zero left out), or "nothing". */
export function countsText(counts: BatchCounts): string {
  const parts = (['issued', 'reissued', 'skipped'] as const)
    .filter((k) => counts[k] > 0)
    .map((k) => `${counts[k].toLocaleString()} ${k}`);
  return parts.length ? parts.join(', ') : 'nothing';
}
