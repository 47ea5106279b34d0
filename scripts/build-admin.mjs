#!/usr/bin/env node
// Builds the admin console (packages/admin → packages/admin/dist) when it is missing or older
// than its sources, so `npm start` and `npm test` serve a current console without rebuilding
// it every time. `--force` always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const admin = join(root, 'packages/admin');
const built = join(admin, 'dist/index.html');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    max = Math.max(max, newest(join(path, entry)));
  }
  return max;
}

if (!existsSync(join(admin, 'package.json'))) process.exit(0);
// The server's files the console imports count too.
const sources = [
  ...['src', 'index.html', 'vite.config.ts', 'package.json', 'public'].map((p) => join(admin, p)),
  join(root, 'packages/server/src/auth/permissions.ts'),
].filter((p) => existsSync(p));
const stale =
  process.argv.includes('--force') || !existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs;
if (!stale) process.exit(0);
process.stdout.write('Building the admin console…\n');
const result = spawnSync('npm', ['run', 'build', '--silent', '-w', 'packages/admin'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
