#!/usr/bin/env node
/**
 * The `latchkey` command (dist/cli.js does the work). CommonJS on purpose: libuv's thread
 * pool takes its size from UV_THREADPOOL_SIZE when it starts, and an ES module entry point
 * is too late to set it (the module loader has already started the pool). Password hashes
 * (one per core at a time, and one more) would otherwise take all four default threads on a
 * machine with three cores or more, and the WAL fsync that every answer waits for, and WebCrypto's token
 * signatures, would queue behind them. A size set by the operator wins.
 */
const { availableParallelism } = require('node:os');

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 3));
import('../dist/cli.js').catch((err) => {
  process.stderr.write(`latchkey: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
