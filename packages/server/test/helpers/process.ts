/**
 * Runs the built `latchkey` CLI (packages/server/bin/latchkey.cjs, which loads dist/cli.js) as
 * a child process, the way an operator does, with an environment the test spells out and a port
 * picked beforehand.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
/** The command operators run: sizes the thread pool, then loads dist/cli.js. */
export const binPath = fileURLToPath(new URL('../../bin/latchkey.cjs', import.meta.url));

/** Fails with the fix when the CLI has not been built (`npm test` builds it first). */
export function assertCliBuilt(): void {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing: run \`npm run build\` first (\`npm test\` builds it before the tests)`);
  }
}

/** A port that was free a moment ago: bind port 0, read what the kernel chose, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const dirs: string[] = [];

/** A fresh empty directory to run a process in (its `./data` and `.env` are its own). */
export function tempDir(prefix = 'latchkey-proc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliRun extends Exit {
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Only PATH from the runner: a test's DATABASE_URL, PORT or .env must not leak into the child. */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env };
}

function spawnCli(args: string[], env: Record<string, string>, cwd: string) {
  assertCliBuilt();
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Runs a command to its end (killing it after `timeoutMs`). */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  cwd = tempDir(),
  timeoutMs = 30_000,
): Promise<CliRun> {
  const proc = spawnCli(args, env, cwd);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  try {
    const exit = await proc.exited;
    return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  /** Resolves once GET /readyz answers 200; rejects if the process exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Starts `latchkey serve` on 127.0.0.1 and a free port. */
export async function startServe(env: Record<string, string>, cwd = tempDir()): Promise<ServerProcess> {
  const port = await freePort();
  const proc = spawnCli(['serve'], { HOST: '127.0.0.1', PORT: String(port), ...env }, cwd);
  const url = `http://127.0.0.1:${port}`;
  let exit: Exit | undefined;
  void proc.exited.then((e) => {
    exit = e;
  });
  return {
    child: proc.child,
    port,
    url,
    exited: proc.exited,
    stdout: proc.stdout,
    stderr: proc.stderr,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exit) {
          throw new Error(`latchkey exited (${exit.code ?? exit.signal}) before it was ready:\n${proc.stderr()}`);
        }
        try {
          const res = await fetch(`${url}/readyz`);
          await res.arrayBuffer();
          if (res.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`latchkey was not ready within ${timeoutMs} ms:\n${proc.stdout()}\n${proc.stderr()}`);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!exit) proc.child.kill(signal);
      return proc.exited;
    },
  };
}

/**
 * Kills (by their own handles) every child started here that is still running, and removes
 * the directories made by `tempDir`.
 */
export async function cleanUp(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(
    children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('close', resolve)))),
  );
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
