/**
 * `latchkey users import FILE --tenant SLUG` and `latchkey users export --tenant SLUG`: a
 * client of a running deployment's admin API (as the smoke suite is), so that it works the
 * same against a laptop and a cluster. The import streams the file (never read whole), shows
 * a progress bar for the upload and then for the job, and prints the refused lines; the
 * export streams the lines to a file or stdout. The API key comes from LATCHKEY_API_KEY (or
 * `--api-key`, which shows in `ps`).
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const usersUsage = `Usage:
  latchkey users import <file> --tenant <slug> --url <url> [--dry-run] [--api-key <key>]
  latchkey users export --tenant <slug> --url <url> [--include-hashes] [--out <file>] [--api-key <key>]

import  Uploads a file of JSON lines (one user per line; docs/import.md) and follows the job
        until it is done: a progress bar, then the counts and the refused lines by number.
        --dry-run checks every line and writes nothing. Exit code 1 when lines were refused.
export  Streams the tenant's users as the same lines to --out (or stdout); --include-hashes
        adds password hashes (needs users:export_hashes; audited).

The deployment's URL is --url (its PUBLIC_URL); the API key LATCHKEY_API_KEY (preferred) or --api-key.
`;

class UsageError extends Error {}

interface Options {
  command: 'import' | 'export';
  file?: string;
  tenant: string;
  url: string;
  apiKey: string;
  dryRun: boolean;
  includeHashes: boolean;
  out?: string;
}

function parse(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Options | 'help' {
  const [command, ...rest] = args;
  if (command === '--help' || command === '-h' || command === undefined) return 'help';
  if (command !== 'import' && command !== 'export') throw new UsageError(`unknown users command "${command}"`);
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--dry-run' || arg === '--include-hashes') {
      flags.add(arg.slice(2));
      continue;
    }
    const m = /^--(tenant|url|api-key|out)(?:=(.*))?$/s.exec(arg);
    if (m?.[1]) {
      const value = m[2] ?? rest[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${m[1]} needs a value`);
      values.set(m[1], value);
      continue;
    }
    if (arg.startsWith('--')) throw new UsageError(`unexpected option "${arg.replace(/=.*$/s, '=…')}"`);
    positional.push(arg);
  }
  const tenant = values.get('tenant');
  if (!tenant) throw new UsageError('--tenant <slug> is required');
  const rawUrl = values.get('url') ?? env.LATCHKEY_URL;
  if (!rawUrl || !URL.canParse(rawUrl) || !/^https?:$/.test(new URL(rawUrl).protocol)) {
    throw new UsageError('--url <url> is required: the deployment, e.g. https://login.example.com');
  }
  const apiKey = values.get('api-key') ?? env.LATCHKEY_API_KEY ?? '';
  if (!apiKey) throw new UsageError('an API key is required: LATCHKEY_API_KEY in the environment, or --api-key');
  if (command === 'import' && positional.length !== 1) throw new UsageError('import needs exactly one file');
  if (command === 'export' && positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`);
  return {
    command,
    ...(positional[0] === undefined ? {} : { file: positional[0] }),
    tenant,
    url: rawUrl.replace(/\/+$/, ''),
    apiKey,
    dryRun: flags.has('dry-run'),
    includeHashes: flags.has('include-hashes'),
    ...(values.has('out') ? { out: values.get('out') as string } : {}),
  };
}

/** A progress bar on a terminal (stderr); on anything else, a line now and then. */
function progress(err: Writable & { isTTY?: boolean }, label: string) {
  let lastLine = 0;
  return {
    show(done: number, total: number | undefined, unit: string) {
      const share = total ? Math.min(1, done / total) : undefined;
      const text =
        share === undefined
          ? `${label}: ${done.toLocaleString('en')} ${unit}`
          : `${label} [${'#'.repeat(Math.round(share * 30)).padEnd(30, '.')}] ${(share * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en')}/${total?.toLocaleString('en')} ${unit}`;
      if (err.isTTY) err.write(`\r${text}`);
      else if (Date.now() - lastLine > 2000 || share === 1) {
        lastLine = Date.now();
        err.write(`${text}\n`);
      }
    },
    end() {
      if (err.isTTY) err.write('\n');
    },
  };
}

interface Job {
  id: string;
  status: string;
  lines: number;
  processed: number;
  created: number;
  existing: number;
  failed: number;
  failures: { line: number; code: string; message: string }[];
}

async function apiError(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return `${res.status} ${body.error?.code ?? ''}: ${body.error?.message ?? text}`;
  } catch {
    return `${res.status}: ${text.slice(0, 200)}`;
  }
}

async function runImport(o: Options, out: Writable, err: Writable): Promise<number> {
  const file = o.file as string;
  const size = statSync(file).size;
  const base = `${o.url}/api/v1/tenants/${encodeURIComponent(o.tenant)}/users`;
  const bar = progress(err, o.dryRun ? 'checking (upload)' : 'uploading');
  let sent = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      bar.show(sent, size, 'bytes');
      done(null, chunk);
    },
  });
  const body = Readable.toWeb(createReadStream(file).pipe(counting)) as ReadableStream<Uint8Array>;
  const res = await fetch(`${base}/import${o.dryRun ? '?dryRun=true' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/x-ndjson' },
    body,
    duplex: 'half',
  } as RequestInit);
  bar.end();
  if (res.status !== 202) {
    err.write(`latchkey: the import was refused: ${await apiError(res)}\n`);
    return 1;
  }
  let job = (await res.json()) as Job;
  const applying = progress(err, o.dryRun ? 'checking' : 'importing');
  while (job.status === 'queued' || job.status === 'running' || job.status === 'receiving') {
    applying.show(job.processed, job.lines, 'lines');
    await new Promise((r) => setTimeout(r, 500));
    const poll = await fetch(`${base}/imports/${job.id}`, { headers: { authorization: `Bearer ${o.apiKey}` } });
    if (!poll.ok) {
      err.write(`latchkey: could not follow import ${job.id}: ${await apiError(poll)}\n`);
      return 1;
    }
    job = (await poll.json()) as Job;
  }
  applying.show(job.processed, job.lines, 'lines');
  applying.end();
  out.write(
    `import ${job.id} ${job.status}${o.dryRun ? ' (dry run: nothing written)' : ''}: ${job.lines} lines, ${job.created} created, ${job.existing} existing (left as they were), ${job.failed} refused\n`,
  );
  for (const f of job.failures) out.write(`  line ${f.line}: ${f.code}: ${f.message}\n`);
  if (job.failed > job.failures.length) out.write(`  … and ${job.failed - job.failures.length} more\n`);
  return job.status === 'done' && job.failed === 0 ? 0 : 1;
}

async function runExport(o: Options, out: Writable, err: Writable): Promise<number> {
  const url = `${o.url}/api/v1/tenants/${encodeURIComponent(o.tenant)}/users/export${o.includeHashes ? '?includeHashes=true' : ''}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${o.apiKey}` } });
  if (!res.ok || !res.body) {
    err.write(`latchkey: the export was refused: ${await apiError(res)}\n`);
    return 1;
  }
  const bar = progress(err, 'exporting');
  let users = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _enc, done) {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) users++;
      bar.show(users, undefined, 'users');
      done(null, chunk);
    },
  });
  const target = o.out ? createWriteStream(o.out, { mode: o.includeHashes ? 0o600 : 0o644 }) : out;
  await pipeline(Readable.fromWeb(res.body as never), counting, target, { end: o.out !== undefined });
  bar.end();
  err.write(`exported ${users} users${o.out ? ` to ${o.out}` : ''}\n`);
  return 0;
}

/** `latchkey users …`: the exit code (0, 1 on a failure, 2 on bad usage). */
export async function users(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: Writable,
  err: Writable,
): Promise<number> {
  let options: Options | 'help';
  try {
    options = parse(args, env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`latchkey users: ${e.message}\n\n${usersUsage}`);
    return 2;
  }
  if (options === 'help') {
    out.write(usersUsage);
    return 0;
  }
  try {
    return options.command === 'import' ? await runImport(options, out, err) : await runExport(options, out, err);
  } catch (e) {
    err.write(`latchkey users: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
