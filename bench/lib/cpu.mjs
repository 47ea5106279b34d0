/**
 * Who used the CPU during a run (Linux /proc): the server, this process (autocannon),
 * PostgreSQL's processes, and everything else. On a shared 2-core box, "everything else"
 * says whether the figures can be trusted.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Milliseconds of CPU in `ticks` (from processTicks or a cpuSnapshot). */
export const ticksToMs = (ticks) => (ticks * 1000) / TICKS_PER_SECOND;

export function processTicks(pid, file = `/proc/${pid}/stat`) {
  try {
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

function commandName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function busyTicks() {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, user, nice, system, , , irq, softirq, steal] = cpu.trim().split(/\s+/).map(Number);
  return user + nice + system + irq + softirq + steal;
}

function postgresTicks() {
  let sum = 0;
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && commandName(entry) === 'postgres') sum += processTicks(entry);
  }
  return sum;
}

export function cpuSnapshot(serverPid) {
  return {
    at: performance.now(),
    busy: busyTicks(),
    server: processTicks(serverPid),
    // The thread that runs JavaScript (its tid is the pid): at 100% the server is saturated,
    // whatever the other threads (libuv pool: argon2id, file I/O) leave free.
    serverMain: processTicks(serverPid, `/proc/${serverPid}/task/${serverPid}/stat`),
    self: processTicks(process.pid),
    postgres: postgresTicks(),
  };
}

/** Percent of one core each party used between two snapshots (200% = both of 2 cores). */
export function cpuUsage(before, after) {
  const seconds = (after.at - before.at) / 1000;
  const pct = (ticks) => Math.max(0, Math.round((100 * ticks) / TICKS_PER_SECOND / seconds));
  const server = after.server - before.server;
  const self = after.self - before.self;
  const postgres = after.postgres - before.postgres;
  const busy = after.busy - before.busy;
  return {
    serverPct: pct(server),
    serverMainThreadPct: pct(after.serverMain - before.serverMain),
    loadGeneratorPct: pct(self),
    postgresPct: pct(postgres),
    otherPct: pct(busy - server - self - postgres),
  };
}

/** CPU ticks of every process but this one, its children and PostgreSQL, by pid. */
export function otherProcessTicks() {
  const out = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid || commandName(entry) === 'postgres') continue; // [1] is the ppid
      out.set(entry, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the process ended meanwhile
    }
  }
  return { at: performance.now(), ticks: out };
}

/**
 * Percent of one core that other processes used since `start` (from otherProcessTicks). Processes
 * that ended in between are not counted, so this is a lower bound; PostgreSQL backends that
 * close with our servers do not count as others.
 */
export function otherUsageSince(start) {
  const now = otherProcessTicks();
  let ticks = 0;
  for (const [pid, t] of now.ticks) ticks += t - (start.ticks.get(pid) ?? 0);
  const seconds = (now.at - start.at) / 1000;
  return Math.max(0, Math.round((100 * ticks) / TICKS_PER_SECOND / seconds));
}

/**
 * Nanoseconds of CPU a process has used, all its threads (the JavaScript thread and libuv's
 * pool alike), from the scheduler's own accounting (/proc/<pid>/task/<tid>/schedstat): exact,
 * where the ticks above come in 10 ms steps, so that one request's CPU can be measured.
 * Threads that ended are not counted (node's live as long as the process).
 */
export function processCpuNs(pid) {
  let sum = 0;
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tids) sum += schedstatNs(`/proc/${pid}/task/${tid}/schedstat`);
  return sum;
}

/** Nanoseconds of CPU of single-threaded processes (PostgreSQL backends), by pid (none for one that has ended). */
export function processCpuNsByPid(pids) {
  const out = new Map();
  for (const pid of pids) {
    const ns = schedstatNs(`/proc/${pid}/schedstat`);
    if (ns > 0) out.set(pid, ns);
  }
  return out;
}

/** Nanoseconds used between two `processCpuNsByPid` snapshots by the processes in both. */
export function cpuDeltaNs(before, after) {
  let sum = 0;
  for (const [pid, ns] of after) if (before.has(pid)) sum += ns - before.get(pid);
  return sum;
}

function schedstatNs(file) {
  try {
    return Number(readFileSync(file, 'utf8').split(' ')[0]) || 0;
  } catch {
    return 0;
  }
}
