import { describe, expect, it } from 'vitest';
import type { IssuedTicket, IssueResult } from '../../api/types';
import {
  CHUNK_SIZE,
  chunk,
  countsText,
  firstCsvField,
  isCsvFile,
  keyIdentity,
  neutralizeFormula,
  parseForeignKeys,
  resultsCsv,
  resultsFileName,
  runBatch,
} from './issueBatch';

describe('parseForeignKeys', () => {
  it('takes one key per line, trimmed, blank lines ignored, whatever the line endings', () => {
    expect(parseForeignKeys('  ada@example.com \n\ncrm-1042\r\n\r\n\t \rbob@example.com\n')).toEqual({
      keys: ['ada@example.com', 'crm-1042', 'bob@example.com'],
      duplicates: 0,
      problems: [],
      header: null,
    });
    expect(parseForeignKeys('')).toEqual({ keys: [], duplicates: 0, problems: [], header: null });
    expect(parseForeignKeys('\n \n\t\n').keys).toEqual([]);
  });

  it('leaves out repeats, an email address in any case or Unicode form, other keys only as given', () => {
    const parsed = parseForeignKeys('Ada@Example.com\nada@example.com\nＡＤＡ@example.com\nCRM-1\ncrm-1\nCRM-1');
    expect(parsed.keys).toEqual(['Ada@Example.com', 'CRM-1', 'crm-1']);
    expect(parsed.duplicates).toBe(3);
  });

  it('finds what the API would refuse, by line: control characters, more than 320 characters', () => {
    const long = 'x'.repeat(321);
    const parsed = parseForeignKeys(`ok\na\tb\n${long}\n${'y'.repeat(320)}\nnul\u0000here`);
    expect(parsed.keys).toEqual(['ok', 'y'.repeat(320)]);
    expect(parsed.problems.map((p) => [p.line, p.message])).toEqual([
      [2, 'holds a control character (a tab, say)'],
      [3, 'longer than 320 characters'],
      [5, 'holds a control character (a tab, say)'],
    ]);
  });

  it('reads the first column of a CSV, quoted or not', () => {
    const csv = 'ada@example.com,Ada Lovelace\n"crm, 1042","x"\n"say ""hi""",y\n\n , blank first\nsolo';
    expect(parseForeignKeys(csv, { csv: true }).keys).toEqual(['ada@example.com', 'crm, 1042', 'say "hi"', 'solo']);
    expect(firstCsvField('"unterminated')).toBe('unterminated');
    expect(parseForeignKeys(csv, { csv: true }).header).toBeNull();
    expect(isCsvFile('keys.CSV')).toBe(true);
    expect(isCsvFile('keys.txt')).toBe(false);
  });

  it('leaves out a CSV header row that names the column, as this console’s own CSV has', () => {
    const own = 'foreignKey,result,ticketId,url\r\nada@example.com,issued,tkt_1,https://x\r\n';
    expect(parseForeignKeys(own, { csv: true })).toMatchObject({ keys: ['ada@example.com'], header: 'foreignKey' });
    expect(parseForeignKeys('\nEmail,Name\nada@example.com,Ada', { csv: true }).header).toBe('Email');
    // Only the first row, only in a CSV.
    expect(parseForeignKeys('ada@example.com\nemail', { csv: true }).keys).toEqual(['ada@example.com', 'email']);
    expect(parseForeignKeys('email\nada@example.com').keys).toEqual(['email', 'ada@example.com']);
  });

  it('counts an address as the API does, other keys as typed', () => {
    expect(keyIdentity('ＡＤＡ@Example.COM')).toBe('ada@example.com');
    expect(keyIdentity('CRM-1042')).toBe('CRM-1042');
    expect(keyIdentity('Root@Localhost')).toBe('Root@Localhost');
  });
});

describe('chunk', () => {
  it('cuts a list into groups of at most the size, in order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 2)).toEqual([]);
    expect(chunk(Array.from({ length: 1001 }, (_, i) => i)).map((c) => c.length)).toEqual([CHUNK_SIZE, CHUNK_SIZE, 1]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});

/** A fake API: issues every key, but keys starting with "old" are skipped. */
function fakeSend(calls: string[][], failOnCall?: number) {
  return async (part: string[]): Promise<IssueResult> => {
    calls.push(part);
    if (calls.length === failOnCall) throw new Error(`refused chunk ${failOnCall}`);
    const items: IssuedTicket[] = part.map((k) => ({
      foreignKey: k,
      ticketId: `tkt_${k}`,
      url: k.startsWith('old') ? null : `https://id.test/t/acme/tickets/${k}`,
      result: k.startsWith('old') ? 'skipped' : 'issued',
    }));
    const skipped = items.filter((i) => i.result === 'skipped').length;
    return { items, issued: items.length - skipped, reissued: 0, skipped };
  };
}

describe('runBatch', () => {
  const keys = ['k1', 'old2', 'k3', 'k4', 'k5'];

  it('sends chunk after chunk, reporting progress after each, and adds up the answers', async () => {
    const calls: string[][] = [];
    const seen: number[] = [];
    const run = await runBatch(keys, fakeSend(calls), { chunkSize: 2, onProgress: (p) => seen.push(p.done) });
    expect(calls).toEqual([['k1', 'old2'], ['k3', 'k4'], ['k5']]);
    expect(seen).toEqual([2, 4, 5]);
    expect(run).toMatchObject({ done: 5, total: 5, error: null, stopped: false });
    expect(run.counts).toEqual({ issued: 4, reissued: 0, skipped: 1 });
    expect(run.items.map((i) => i.foreignKey)).toEqual(keys);
  });

  it('stops at the first refusal: what came before stays, that chunk and the rest are not sent', async () => {
    const calls: string[][] = [];
    const run = await runBatch(keys, fakeSend(calls, 2), { chunkSize: 2 });
    expect(calls).toHaveLength(2);
    expect(run.done).toBe(2);
    expect((run.error as Error).message).toBe('refused chunk 2');
    expect(run.items.map((i) => i.foreignKey)).toEqual(['k1', 'old2']);

    // Resuming sends the rest only, and keeps the earlier answers.
    const more: string[][] = [];
    const rest = await runBatch(keys, fakeSend(more), { chunkSize: 2, resume: run });
    expect(more).toEqual([['k3', 'k4'], ['k5']]);
    expect(rest).toMatchObject({ done: 5, total: 5, error: null });
    expect(rest.items).toHaveLength(5);
    expect(rest.counts).toEqual({ issued: 4, reissued: 0, skipped: 1 });
  });

  it('stops between chunks when asked', async () => {
    const calls: string[][] = [];
    let stop = false;
    const run = await runBatch(keys, fakeSend(calls), {
      chunkSize: 2,
      shouldStop: () => stop,
      onProgress: () => {
        stop = true;
      },
    });
    expect(calls).toHaveLength(1);
    expect(run).toMatchObject({ done: 2, stopped: true, error: null });
  });
});

describe('resultsCsv', () => {
  it('has a header and one CRLF row per key, quoting what needs it, the url empty when skipped', () => {
    const csv = resultsCsv([
      { foreignKey: 'ada@example.com', ticketId: 'tkt_1', url: 'https://id.test/t/a/tickets/S1', result: 'issued' },
      { foreignKey: 'crm, "1042"', ticketId: 'tkt_2', url: null, result: 'skipped' },
    ]);
    expect(csv).toBe(
      'foreignKey,result,ticketId,url\r\n' +
        'ada@example.com,issued,tkt_1,https://id.test/t/a/tickets/S1\r\n' +
        '"crm, ""1042""",skipped,tkt_2,\r\n',
    );
    expect(resultsCsv([])).toBe('foreignKey,result,ticketId,url\r\n');
  });

  it('keeps a spreadsheet from running a key as a formula', () => {
    expect(neutralizeFormula('=HYPERLINK("http://x")')).toBe('\'=HYPERLINK("http://x")');
    for (const k of ['+1', '-1', '@SUM(A1)']) expect(neutralizeFormula(k)).toBe(`'${k}`);
    expect(neutralizeFormula('ada@example.com')).toBe('ada@example.com');
    const csv = resultsCsv([{ foreignKey: '=1+1', ticketId: 'tkt_1', url: 'u', result: 'issued' }]);
    expect(csv.split('\r\n')[1]).toBe("'=1+1,issued,tkt_1,u");
  });

  it('names the file after the type and the time', () => {
    expect(resultsFileName('Partner onboarding / 2026', new Date(2026, 2, 5, 9, 7))).toBe(
      'tickets-partner-onboarding-2026-2026-03-05-0907.csv',
    );
    expect(resultsFileName('∑∑', new Date(2026, 0, 1, 0, 0))).toBe('tickets-type-2026-01-01-0000.csv');
  });

  it('says the counts in words', () => {
    expect(countsText({ issued: 3, reissued: 0, skipped: 1 })).toBe('3 issued, 1 skipped');
    expect(countsText({ issued: 0, reissued: 0, skipped: 0 })).toBe('nothing');
  });
});
