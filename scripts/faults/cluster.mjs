/**
 * The fault test's cluster: a private PostgreSQL cluster and a private Redis on free ports
 * (never the machine's own 5432 and 6379), and Latchkey nodes (`latchkey serve`) on them.
 * Everything started here is tracked and torn down by `teardown`, which run.mjs calls on every
 * way out (success, failure, Ctrl-C).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../bench/lib/server.mjs';

export { freePort };

const root = fileURLToPath(new URL('../..', import.meta.url));
const cliPath = join(root, 'packages/server/bin/latchkey.cjs');
const pgBin = process.env.FAULTS_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = new Set();
const dirs = [];
let tornDown = false;
let postgresDir;

/** Tracks a child process of the test's own (the proxy) so that `teardown` kills it too. */
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A fresh private directory for this run's files (node data, logs), removed by `teardown`. */
export function runDir() {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-faults-'));
  dirs.push(dir);
  return dir;
}

/** Kills what is still running, stops PostgreSQL, removes the directories. Synchronous: safe in exit handlers. */
export function teardown() {
  tornDown = true;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  if (postgresDir && existsSync(join(postgresDir, 'data', 'postmaster.pid'))) {
    try {
      asPostgres(join(pgBin, 'pg_ctl'), ['-D', join(postgresDir, 'data'), '-m', 'immediate', '-w', 'stop'], {
        stdio: 'ignore',
      });
    } catch {
      // already down
    }
  }
  postgresDir = undefined;
  if (process.env.FAULTS_KEEP === '1') {
    process.stdout.write(`FAULTS_KEEP=1: kept ${dirs.splice(0).join(' ')}\n`);
    return;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** initdb and pg_ctl refuse to run as root: as root they run as the `postgres` user. */
function postgresCommand(command, args) {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function asPostgres(command, args, options = {}) {
  return execFileSync(...postgresCommand(command, args), { encoding: 'utf8', ...options });
}

/** The same, without blocking the event loop (the load goes on meanwhile). */
function asPostgresAsync(command, args) {
  return promisify(execFile)(...postgresCommand(command, args), { encoding: 'utf8' });
}

/**
 * A private PostgreSQL cluster: initdb (trust auth, fsync on) in a fresh directory owned by
 * the postgres user, listening on 127.0.0.1 and a free port only. Returns its URL and
 * `restart`, `stop`, `start` (pg_ctl, waiting until it is ready).
 */
export async function startPostgres() {
  const port = await freePort();
  postgresDir = mkdtempSync(join(tmpdir(), 'latchkey-faults-pg-'));
  dirs.push(postgresDir);
  const data = join(postgresDir, 'data');
  const log = join(postgresDir, 'postgres.log');
  if (process.getuid?.() === 0) {
    const id = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(postgresDir, id, gid);
  }
  asPostgres(join(pgBin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const options = [
    `-c listen_addresses=127.0.0.1`,
    `-c port=${port}`,
    `-c unix_socket_directories=${postgresDir}`,
    '-c fsync=on',
    '-c synchronous_commit=on',
    '-c shared_buffers=32MB',
  ].join(' ');
  const ctlArgs = (...args) => ['-D', data, '-l', log, '-w', '-t', '30', '-o', options, ...args];
  asPostgres(join(pgBin, 'pg_ctl'), ctlArgs('start'), { stdio: 'ignore' });
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    log,
    /** `pg_ctl restart -m fast`: clients are disconnected, the server is down until it is back. */
    restart: () => asPostgresAsync(join(pgBin, 'pg_ctl'), ctlArgs('-m', 'fast', 'restart')),
    logTail: (lines = 20) => tail(log, lines),
  };
}

/** A private redis-server (no persistence) on 127.0.0.1 and a free port; `stop` and `start` again on the same port. */
export async function startRedis(dir) {
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  let child;
  const start = async () => {
    const out = openSync(logFile, 'a');
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    track(child);
    const deadline = Date.now() + 10_000;
    while (!(await redisPing(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${tail(logFile)}`);
      await sleep(50);
    }
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** SIGTERM, as a service manager stops it; resolves once it has exited. */
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    start,
  };
}

/** Whether a Redis answers PING on the port (inline command over a raw socket). */
function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    let data = '';
    socket.on('data', (d) => {
      data += d;
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.startsWith('+PONG'));
      }
    });
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The status of GET `path` on a node (0 when there was no answer within `timeoutMs`). */
export function statusOf(port, path, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/**
 * A Latchkey node: `latchkey serve` with `env` on 127.0.0.1:`port`, its output appended to a
 * log file. `start` spawns it, `ready` waits for /readyz 200, `kill` sends SIGKILL, `stop` SIGTERM.
 * Like a service manager, it is started again a second after it exits by itself (a crash);
 * the exit is kept in `unexpectedExits`.
 */
export function latchkeyNode({ name, port, env, dir }) {
  const logFile = join(dir, `${name}.log`);
  let child;
  let exit;
  let expected = false;
  /** A crashed node's restart is due. */
  let restarting = false;
  const node = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    logFile,
    /** Exits that neither `kill` nor `stop` caused. */
    unexpectedExits: [],
    get alive() {
      return child !== undefined && exit === undefined;
    },
    /** Whether it has answered /readyz 200 since it was last started (and has not exited). */
    up: false,
    start() {
      const out = openSync(logFile, 'a');
      exit = undefined;
      expected = false;
      restarting = false;
      child = spawn(process.execPath, [cliPath, 'serve'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOST: '127.0.0.1', PORT: String(port), ...env },
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      children.add(child);
      const own = child;
      node.up = false;
      void (async () => {
        while (own === child && exit === undefined && !tornDown) {
          if ((await statusOf(port, '/readyz')) === 200) {
            node.up = own === child && exit === undefined;
            return;
          }
          await sleep(50);
        }
      })();
      own.once('exit', (code, signal) => {
        children.delete(own);
        if (own !== child) return;
        exit = { code, signal };
        node.up = false;
        if (expected) return;
        node.unexpectedExits.push(`${name} exited by itself (${code ?? signal})`);
        restarting = true;
        setTimeout(() => {
          if (!tornDown && !expected && exit) node.start();
        }, 1000).unref();
      });
    },
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exit && !restarting)
          throw new Error(`${name} exited (${exit.code ?? exit.signal}) before it was ready:\n${tail(logFile)}`);
        if ((await statusOf(port, '/readyz')) === 200) return;
        await sleep(50);
      }
      throw new Error(`${name} was not ready within ${timeoutMs / 1000} s:\n${tail(logFile)}`);
    },
    kill() {
      const exited = new Promise((r) => child.once('exit', r));
      expected = true;
      child.kill('SIGKILL');
      return exited;
    },
    async stop(graceMs = 10_000) {
      if (!node.alive) return exit;
      const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      expected = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    logTail: (lines = 20) => tail(logFile, lines),
  };
  return node;
}

export function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
