/**
 * The server under test runs as its own process (`node packages/server/bin/latchkey.cjs serve`)
 * on 127.0.0.1 and a free port. Every child is tracked so that it is killed when the
 * benchmark ends, however it ends.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = join(root, 'packages/server/bin/latchkey.cjs');

const children = new Set();

/** Kills every child still running (SIGKILL: used on the way out, also on errors). */
export function killAllChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Variables the server must not inherit from the shell running the benchmark. */
const ownVariables = /^(DATABASE_|LATCHKEY_|PORT$|HOST$|PUBLIC_URL$|LOG_LEVEL$|NODE_ENV$|REDIS_URL$|NODE_OPTIONS$)/;

/**
 * Spawns the server and returns at once; `t0` is taken just before the spawn so that
 * `waitReady` measures process start to first ready answer.
 */
export async function spawnServer({ databaseUrl, dataDir, apiKey, logFile, nodeArgs = [], env = {} }) {
  const port = await freePort();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !ownVariables.test(k)));
  const log = openSync(logFile, 'a');
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, cliPath, 'serve'], {
    // Its own working directory, so that no ./.env of the checkout is read.
    cwd: dataDir,
    env: {
      ...inherited,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      LATCHKEY_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
      LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: `bench-${apiKey.slice(3, 27)}`,
      ...env,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  return tracked(child, { port, t0, logFile });
}

/** A spawned child, killed with the others on the way out; what spawnServer returns. */
function tracked(child, { port, t0, logFile }) {
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('exit', () => children.delete(child));
  return { child, pid: child.pid, port, url: `http://127.0.0.1:${port}`, t0, exited, logFile };
}

/**
 * Spawns the oidc scenario's peer (peers/oidc-provider.mjs: bare oidc-provider, in-memory) on a
 * free port with `config` (its slug, clients and users), written beside its log; returns as
 * `spawnServer` does, `waitReady` waits for it the same way.
 */
export async function spawnPeer({ config, logFile, nodeArgs = [] }) {
  const port = await freePort();
  const configFile = `${logFile}.config.json`;
  writeFileSync(configFile, JSON.stringify({ ...config, port }), { mode: 0o600 });
  const log = openSync(logFile, 'a');
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bench/peers/oidc-provider.mjs'), configFile], {
    // libuv's pool at its default size on this machine (4, or cores + 2 where that is more: as
    // Latchkey sized it before issue 10 gave it one hash more per core).
    env: { PATH: process.env.PATH, UV_THREADPOOL_SIZE: String(Math.max(4, availableParallelism() + 2)) },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  return tracked(child, { port, t0, logFile });
}

function getStatus(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls /readyz every ~5 ms; resolves with milliseconds from spawn to the first 200. */
export async function waitReady(server, { timeoutMs = 30_000 } = {}) {
  const { child } = server;
  while (performance.now() - server.t0 < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before ready:\n${logTail(server)}`);
    }
    const status = await getStatus(server.port, '/readyz');
    if (status === 200) return performance.now() - server.t0;
    await sleep(5);
  }
  throw new Error(`server not ready within ${timeoutMs} ms:\n${logTail(server)}`);
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopServer(server, { graceMs = 15_000 } = {}) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  const result = await server.exited;
  clearTimeout(timer);
  return result;
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return kb / 1024;
}

export function logTail(server, lines = 20) {
  try {
    return readFileSync(server.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Admin API calls that must succeed: anything but 2xx throws with the answer. */
export function adminApi(base, apiKey) {
  return async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/**
 * The end of a scenario's measured server: RSS after the load (for information), then a
 * SIGTERM, whose exit goes into `figures.shutdown` (an unclean one is printed with the log).
 */
export async function finishServer(server, figures, print, fmt) {
  figures.rssAfterLoadMb = rssMb(server.pid);
  print(`  RSS after load: ${fmt(figures.rssAfterLoadMb, 1)} MB (for information)`);
  const exit = await stopServer(server);
  figures.shutdown = exit;
  if (exit.code !== 0) print(`  !! the server exited with ${exit.code ?? exit.signal} on SIGTERM:\n${logTail(server)}`);
}
