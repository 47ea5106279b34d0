#!/usr/bin/env node
// The admin API contract check (docs/api.md, "Versioning and the contract"): compares the
// OpenAPI document the server generates with the released contract of each major version,
// packages/server/api/vN.json, and prints every difference. Exit 1 when a rule is broken.
//
//   node scripts/api-contract.mjs                 check (npm run api:check)
//   node scripts/api-contract.mjs --release       write api/vN.json for the newest major (npm run api:release)
//   options: --document FILE   compare FILE instead of the generated document
//            --contracts DIR   released contracts (default packages/server/api)
//            --changelog FILE  (default CHANGELOG.md)
//            --accept-breaking with --release: release breaking changes to a served major anyway
//            --verbose         list documentation-only changes too
//
// The rules live in packages/server/src/http/contract/ (built to dist first, as `npm run openapi` does).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message, code = 2) {
  process.stderr.write(`api-contract: ${message}\n`);
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    options: {
      release: { type: 'boolean', default: false },
      'accept-breaking': { type: 'boolean', default: false },
      document: { type: 'string' },
      contracts: { type: 'string', default: join(root, 'packages/server/api') },
      changelog: { type: 'string', default: join(root, 'CHANGELOG.md') },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  fail(`${err.message}; see --help`);
}
if (args.help) {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const head = text.split('\n').slice(1);
  const block = head.slice(
    0,
    head.findIndex((line) => !line.startsWith('//')),
  );
  process.stdout.write(`${block.map((line) => line.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}
if (args['accept-breaking'] && !args.release) fail('--accept-breaking goes with --release');

function run(command, commandArgs, input) {
  const result = spawnSync(command, commandArgs, { cwd: root, encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) fail(`${command}: ${result.error.message}`, 1);
  if (result.status !== 0) fail(`${[command, ...commandArgs].join(' ')} failed:\n${result.stderr}${result.stdout}`, 1);
  return result.stdout;
}

function readJson(path, what) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read ${what} ${path}: ${err.code ?? err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    fail(`${what} ${path} is not JSON: ${err.message}`);
  }
}

// Up to date in well under a second when nothing changed.
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/server']);
const contract = await import(pathToFileURL(join(root, 'packages/server/dist/http/contract/check.js')).href);

const generated = args.document
  ? readJson(resolve(args.document), 'document')
  : JSON.parse(run(process.execPath, [join(root, 'packages/server/bin/latchkey.cjs'), 'openapi']));
const contractsDir = resolve(args.contracts);
const contracts = new Map();
for (const name of existsSync(contractsDir) ? readdirSync(contractsDir) : []) {
  const m = /^v([1-9]\d*)\.json$/.exec(name);
  if (m) contracts.set(Number(m[1]), readJson(join(contractsDir, name), 'contract'));
}
let changelog = '';
try {
  changelog = readFileSync(resolve(args.changelog), 'utf8');
} catch (err) {
  fail(`cannot read the changelog ${args.changelog}: ${err.code ?? err.message}`);
}

const report = contract.checkContract({
  generated,
  contracts,
  changelog,
  acceptBreaking: args['accept-breaking'],
  releasing: args.release,
});
const shown = (path) => relative(process.cwd(), path) || path;

process.stdout.write(`Admin API contract: info.version ${report.version || '(none)'}\n`);
for (const { major, released, changes } of report.majors) {
  const file = shown(join(contractsDir, `v${major}.json`));
  if (released === null) {
    process.stdout.write(`/api/v${major}: no released contract yet (${file}; written by --release)\n`);
    continue;
  }
  const count = (kind) => changes.filter((c) => c.kind === kind).length;
  process.stdout.write(
    `/api/v${major} against ${file} (released ${released}): ` +
      `${count('breaking')} breaking, ${count('additive')} additive, ${count('docs')} documentation-only\n`,
  );
  for (const kind of ['breaking', 'additive', ...(args.verbose ? ['docs'] : [])]) {
    for (const c of changes.filter((x) => x.kind === kind))
      process.stdout.write(`  ${kind.padEnd(8)}  ${c.where}: ${c.message}\n`);
  }
}

if (report.problems.length) {
  for (const problem of report.problems) process.stdout.write(`FAIL ${problem}\n`);
  if (args.release) process.stdout.write('Nothing released.\n');
  process.exit(1);
}

if (!args.release) {
  process.stdout.write('OK: every released contract holds.\n');
  process.exit(0);
}

const major = Number(report.version.split('.')[0]);
const target = join(contractsDir, `v${major}.json`);
// Formatted as the linter wants it (`npm run lint` checks every JSON file in the repository).
const text = run(
  process.execPath,
  [
    join(root, 'node_modules/@biomejs/biome/bin/biome'),
    'format',
    `--stdin-file-path=packages/server/api/v${major}.json`,
  ],
  `${JSON.stringify(contract.selectMajor(generated, major), null, 2)}\n`,
);
mkdirSync(contractsDir, { recursive: true });
writeFileSync(target, text);
process.stdout.write(`Released admin API ${report.version}: wrote ${shown(target)}. Commit it with the change.\n`);
