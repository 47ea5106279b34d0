/**
 * Sizes libuv's thread pool before anything uses it: imported first by the CLI. Password
 * hashes (at most one per core at a time, see passwords/hash.ts) would otherwise take every
 * thread of the default four on a machine with four cores or more, and the WAL fsync that
 * every answer waits for (db/database.ts) and WebCrypto's token signatures would queue behind
 * them. A UV_THREADPOOL_SIZE set by the operator wins.
 */
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 2));
