/**
 * Files only their owner may read or write: the instance key file, the SQLite database and
 * the files SQLite keeps beside it, and the data directory when Latchkey creates it. SQLite
 * makes its `-wal`, `-shm` and `-journal` files with the mode of the database file, so the
 * database is created 0600 before SQLite opens it; files already there with a looser mode
 * (made before this rule, or by a crashed process) are tightened at start.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Creates `dir` (and its parents) readable by its owner only; one that exists is left as it is. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Takes group and other access away from `file`, if it exists. */
export function tightenFile(file: string): void {
  const mode = statSync(file, { throwIfNoEntry: false })?.mode;
  if (mode === undefined || (mode & 0o077) === 0) return;
  try {
    chmodSync(file, mode & 0o700);
  } catch (err) {
    throw new Error(`${file} is readable by others and cannot be made private: run chmod 600 ${file}`, {
      cause: err,
    });
  }
}

/** The SQLite database at `path`, created empty and 0600 when missing, and its companions tightened. */
export function makePrivateDatabase(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) tightenFile(file);
}
