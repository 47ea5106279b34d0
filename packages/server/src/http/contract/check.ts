/**
 * The admin API's versioning rules (docs/api.md, "Versioning and the contract"), checked: the
 * document the server generates against the released contract of each major version
 * (`packages/server/api/vN.json`) and CHANGELOG.md. `scripts/api-contract.mjs` runs it on its own
 * and releases a contract; test/api-contract.test.ts runs it in `npm test`.
 *
 * - `info.version` is the contract's own semver, MAJOR.MINOR.PATCH, not the server package's:
 *   MAJOR is the newest `/api/vN` the document serves.
 * - Against the released contract of each major, a breaking change fails (it belongs in a new
 *   major under `/api/v{N+1}`, beside the old one).
 * - An additive change to the newest major needs a higher MINOR than its released contract;
 *   a major that a newer one superseded is frozen.
 * - Whenever `info.version` differs from the released one, CHANGELOG.md names it ("admin API 1.1.0").
 */
import { type Change, diffDocuments } from './diff.js';

type Obj = Record<string, unknown>;

export interface Semver {
  major: number;
  minor: number;
  patch: number;
}

export interface MajorReport {
  major: number;
  /** `info.version` of the released contract; `null` for a major not released yet. */
  released: string | null;
  changes: Change[];
}

export interface ContractReport {
  /** `info.version` of the generated document. */
  version: string;
  majors: MajorReport[];
  /** Why the check fails; empty when it passes. */
  problems: string[];
}

export interface ContractInputs {
  /** The document the server generates (`/api/v1/openapi.json`). */
  generated: unknown;
  /** Released contracts by major version (`packages/server/api/v1.json` is 1). */
  contracts: ReadonlyMap<number, unknown>;
  /** CHANGELOG.md's text. */
  changelog: string;
  /** `api:release --accept-breaking`: breaking changes need a version bump instead of failing. */
  acceptBreaking?: boolean;
  /** `api:release`, which writes the missing contract of the newest major. */
  releasing?: boolean;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseSemver(version: unknown): Semver | undefined {
  const m = typeof version === 'string' ? /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(version) : null;
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

export function compareSemver(a: Semver, b: Semver): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** `info.version` of a document, or `undefined`. */
export function documentVersion(doc: unknown): string | undefined {
  const info = isObj(doc) ? doc.info : undefined;
  return isObj(info) && typeof info.version === 'string' ? info.version : undefined;
}

const majorOf = (path: string): number | undefined => {
  const m = /^\/api\/v([1-9]\d*)(?:\/|$)/.exec(path);
  return m ? Number(m[1]) : undefined;
};

/** The `N` of every `/api/vN` the document has a path under. */
export function servedMajors(doc: unknown): number[] {
  const paths = isObj(doc) && isObj(doc.paths) ? Object.keys(doc.paths) : [];
  return [...new Set(paths.map(majorOf).filter((n): n is number => n !== undefined))].sort((a, b) => a - b);
}

/** The document with only the paths of one major version: what `api/vN.json` holds. */
export function selectMajor(doc: unknown, major: number): Obj {
  if (!isObj(doc) || !isObj(doc.paths)) throw new TypeError('an OpenAPI document has paths');
  const paths = Object.fromEntries(Object.entries(doc.paths).filter(([path]) => majorOf(path) === major));
  return { ...doc, paths };
}

/** Does the changelog name this version of the admin API ("admin API 1.1.0", "API `1.1.0`")? */
export function changelogMentions(changelog: string, version: string): boolean {
  const escaped = version.replace(/\./g, '\\.');
  return new RegExp(`\\bAPI\\s+\`?v?${escaped}(?![\\w.-])`, 'i').test(changelog);
}

export function checkContract(inputs: ContractInputs): ContractReport {
  const problems: string[] = [];
  const version = documentVersion(inputs.generated) ?? '';
  const current = parseSemver(version);
  const majors: MajorReport[] = [];
  if (!current) {
    problems.push(`info.version ${JSON.stringify(version)} is not semver (MAJOR.MINOR.PATCH)`);
    return { version, majors, problems };
  }
  const paths = isObj(inputs.generated) && isObj(inputs.generated.paths) ? Object.keys(inputs.generated.paths) : [];
  for (const path of paths) {
    if (majorOf(path) === undefined)
      problems.push(`path ${path} is outside every /api/vN: the contract covers /api/v1, /api/v2…`);
  }
  const served = servedMajors(inputs.generated);
  const newest = served.at(-1);
  if (newest !== undefined && current.major !== newest) {
    problems.push(
      `info.version ${version} does not match the newest major served, /api/v${newest}: info.version is ${newest}.MINOR.PATCH`,
    );
  }
  if (inputs.contracts.size === 0 && !inputs.releasing) {
    problems.push('no released contract (packages/server/api/v1.json): `npm run api:release` writes it');
  }
  let versionChanged = !inputs.contracts.has(current.major);

  for (const major of [...new Set([...inputs.contracts.keys(), ...served])].sort((a, b) => a - b)) {
    const contract = inputs.contracts.get(major);
    if (contract === undefined) {
      majors.push({ major, released: null, changes: [] });
      if (major !== current.major)
        problems.push(`/api/v${major} is served but has no released contract (api/v${major}.json)`);
      continue;
    }
    const releasedVersion = documentVersion(contract) ?? '';
    const released = parseSemver(releasedVersion);
    if (!released || released.major !== major) {
      problems.push(`api/v${major}.json: info.version ${JSON.stringify(releasedVersion)} is not ${major}.MINOR.PATCH`);
      continue;
    }
    const changes = diffDocuments(selectMajor(contract, major), selectMajor(inputs.generated, major));
    majors.push({ major, released: releasedVersion, changes });
    const breaking = changes.filter((c) => c.kind === 'breaking');
    const additive = changes.filter((c) => c.kind === 'additive');
    if (!served.includes(major)) {
      problems.push(
        `/api/v${major} (released ${releasedVersion}) is no longer served: a major keeps being served beside the next`,
      );
    }
    if (breaking.length && !inputs.acceptBreaking) {
      problems.push(
        `${breaking.length} breaking change${breaking.length > 1 ? 's' : ''} to /api/v${major} (released ${releasedVersion}): ` +
          `ship ${breaking.length > 1 ? 'them' : 'it'} in a new major, /api/v${major + 1}, while /api/v${major} keeps being served`,
      );
    }
    if (major < current.major) {
      const changed = inputs.acceptBreaking ? [...breaking, ...additive] : additive;
      if (changed.length) {
        problems.push(
          `/api/v${major} is frozen since /api/v${current.major} exists (${changed.length} change${changed.length > 1 ? 's' : ''}): make additions in /api/v${current.major}`,
        );
      }
      continue;
    }
    const order = compareSemver(current, released);
    if (order < 0) problems.push(`info.version ${version} is lower than the released ${releasedVersion}`);
    if (order !== 0) versionChanged = true;
    const needsMinor = additive.length > 0 || (inputs.acceptBreaking && breaking.length > 0);
    if (needsMinor && current.minor <= released.minor) {
      problems.push(
        `the contract grew (${additive.length} additive change${additive.length === 1 ? '' : 's'}) but info.version ${version} ` +
          `has the released minor: make it ${major}.${released.minor + 1}.0`,
      );
    }
  }
  if (versionChanged && !changelogMentions(inputs.changelog, version)) {
    problems.push(`CHANGELOG.md does not mention admin API ${version}: add a line such as "- Admin API ${version}: …"`);
  }
  return { version, majors, problems };
}
