/**
 * The admin API contract (docs/api.md, "Versioning and the contract"): the document a running
 * server serves keeps every promise of the released packages/server/api/v1.json; the check
 * really fails on each kind of breaking change (modified copies of the real contract, and small
 * hand-made documents, one rule a row); additions need a minor version and a changelog line;
 * a breaking change is accepted as a new major under /api/v2 beside /api/v1; and
 * scripts/api-contract.mjs prints the differences and releases.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changelogMentions, checkContract, parseSemver, selectMajor } from '../src/http/contract/check.js';
import { type Change, type ChangeKind, diffDocuments } from '../src/http/contract/diff.js';
import { serverVersion } from '../src/version.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// biome-ignore lint/suspicious/noExplicitAny: OpenAPI documents are edited freely below
type Doc = any;

const root = fileURLToPath(new URL('../../../', import.meta.url));
const released: Doc = JSON.parse(readFileSync(join(root, 'packages/server/api/v1.json'), 'utf8'));
const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');

const copy = (): Doc => structuredClone(released);
const kinds = (changes: Change[]): ChangeKind[] => [...new Set(changes.map((c) => c.kind))].sort();
const breaking = (after: Doc, before: Doc = released) =>
  diffDocuments(before, after).filter((c) => c.kind === 'breaking');
const contracts = (doc: Doc = released) => new Map([[1, doc]]);
const withVersion = (doc: Doc, version: string): Doc => ({ ...doc, info: { ...doc.info, version } });
const json = 'application/json';

describe('the served document against the released contract', () => {
  // The document does not depend on the database: one server (SQLite) serves it.
  let ts: TestServer;
  let served: Doc;
  beforeAll(async () => {
    ts = await startTestServer('sqlite');
    const res = await ts.api('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    served = res.body;
  });
  afterAll(async () => {
    await ts?.close();
  });

  it("has a semver info.version of its own: 1.x.y for /api/v1, not the package's version", () => {
    const version = parseSemver(served.info.version);
    expect(version, served.info.version).toBeDefined();
    expect(version?.major).toBe(1);
    expect(parseSemver(released.info.version)?.major).toBe(1);
    expect(serverVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('keeps every promise of packages/server/api/v1.json', () => {
    const report = checkContract({ generated: served, contracts: contracts(), changelog });
    expect(
      report.problems,
      'the admin API contract check failed: run `npm run api:check` for the differences (docs/api.md, "Versioning and the contract")',
    ).toEqual([]);
    expect(report.majors.map((m) => m.major)).toEqual([1]);
    expect(report.majors[0]?.changes.filter((c) => c.kind === 'breaking')).toEqual([]);
  });

  it('the released contract is the /api/v1 part of a document like the served one', () => {
    expect(Object.keys(released.paths).every((p) => p.startsWith('/api/v1/'))).toBe(true);
    expect(selectMajor(released, 1)).toEqual(released);
    expect(released.openapi).toBe(served.openapi);
  });
});

describe('breaking changes to the real contract are caught', () => {
  const user = '/api/v1/tenants/{slug}/users/{id}';
  const users = '/api/v1/tenants/{slug}/users';

  it.each<[string, (d: Doc) => void, RegExp]>([
    ['a removed path', (d) => delete d.paths[user], /^\/api\/v1\/tenants\/\{slug\}\/users\/\{id\}: path removed$/],
    ['a removed operation', (d) => delete d.paths[user].delete, /^DELETE .*users\/\{id\}: operation removed$/],
    [
      'a removed response field',
      (d) => {
        delete d.components.schemas.User.properties.email;
        d.components.schemas.User.required = d.components.schemas.User.required.filter((n: string) => n !== 'email');
      },
      /^GET .*users\/\{id\} response 200 \(application\/json\) email: response field removed$/,
    ],
    [
      'a response field that may now be missing',
      (d) => {
        d.components.schemas.User.required = d.components.schemas.User.required.filter((n: string) => n !== 'email');
      },
      /^GET .*users\/\{id\} response 200 \(application\/json\) email: response field may now be missing$/,
    ],
    [
      'a new required request field',
      (d) => {
        const body = d.paths[users].post.requestBody.content[json].schema;
        body.properties.locale = { type: 'string' };
        body.required.push('locale');
      },
      /^POST .*\/users request body \(application\/json\) locale: new required request field$/,
    ],
    [
      'a request field made required',
      (d) => d.paths[users].post.requestBody.content[json].schema.required.push('password'),
      /^POST .*\/users request body \(application\/json\) password: request field now required$/,
    ],
    [
      'a narrowed enum (a value removed from a request)',
      (d) => {
        d.paths[users].post.requestBody.content[json].schema.properties.status.enum = ['active'];
      },
      /^POST .*\/users request body \(application\/json\) status: enum value "disabled" removed$/,
    ],
    [
      'an enum value removed from a response',
      (d) => {
        d.components.schemas.User.properties.status.enum = ['active', 'disabled'];
      },
      /^GET .*users\/\{id\} response 200 \(application\/json\) status: enum value "pending" removed$/,
    ],
    [
      'a string narrowed to an enum',
      (d) => {
        d.paths[users].post.requestBody.content[json].schema.properties.email.enum = ['a@example.com'];
      },
      /^POST .*\/users request body \(application\/json\) email: now limited to "a@example.com"$/,
    ],
    [
      'a lowered maxLength',
      (d) => {
        d.paths[users].post.requestBody.content[json].schema.properties.email.maxLength = 100;
      },
      /^POST .*\/users request body \(application\/json\) email: maxLength 254 → 100 \(tighter\)$/,
    ],
    [
      'a tightened number range',
      (d) => {
        d.paths['/api/v1/tenants'].get.parameters.find((p: Doc) => p.name === 'limit').schema.maximum = 100;
      },
      /^GET \/api\/v1\/tenants query parameter limit: maximum 200 → 100 \(tighter\)$/,
    ],
    [
      'null no longer accepted',
      (d) => {
        d.paths[users].post.requestBody.content[json].schema.properties.displayName = {
          type: 'string',
          maxLength: 200,
        };
      },
      /^POST .*\/users request body \(application\/json\) displayName: type null no longer accepted$/,
    ],
    [
      'a response field that may now be null',
      (d) => {
        d.components.schemas.User.properties.email.type = ['string', 'null'];
      },
      /^GET .*users\/\{id\} response 200 \(application\/json\) email: may now be null$/,
    ],
    [
      'a removed status code',
      (d) => delete d.paths[user].get.responses['404'],
      /^GET .*users\/\{id\} response 404: status 404 removed$/,
    ],
    [
      'a parameter added as required',
      (d) =>
        d.paths[users].get.parameters.push({ in: 'query', name: 'org', required: true, schema: { type: 'string' } }),
      /^GET .*\/users query parameter org: new required parameter$/,
    ],
    [
      'a removed parameter',
      (d) => {
        d.paths[users].get.parameters = d.paths[users].get.parameters.filter((p: Doc) => p.name !== 'role');
      },
      /^GET .*\/users query parameter role: parameter removed$/,
    ],
  ])('%s', (_name, edit, expected) => {
    const doc = copy();
    edit(doc);
    const found = breaking(doc);
    expect(
      found.map((c) => `${c.where}: ${c.message}`),
      'the expected breaking change',
    ).toContainEqual(expect.stringMatching(expected));
    const report = checkContract({
      generated: withVersion(doc, '1.1.0'),
      contracts: contracts(),
      changelog: 'admin API 1.1.0',
    });
    expect(report.problems.join('\n')).toMatch(
      /breaking change.* to \/api\/v1 \(released 1\.0\.0\): ship .* in a new major, \/api\/v2/,
    );
  });

  it('sees a change through $refs once in every operation that uses the schema', () => {
    const doc = copy();
    delete doc.components.schemas.User.properties.email;
    const ops = new Set(breaking(doc).map((c) => c.where.split(' response')[0]));
    expect(ops).toEqual(new Set([`POST ${users}`, `GET ${users}`, `GET ${user}`, `PATCH ${user}`]));
  });
});

describe('additions need a minor version and a changelog line', () => {
  const addOptionalField = (d: Doc) => {
    d.paths['/api/v1/tenants/{slug}/users'].post.requestBody.content[json].schema.properties.locale = {
      type: 'string',
    };
  };

  it('an added optional request field is additive, not breaking', () => {
    const doc = copy();
    addOptionalField(doc);
    const changes = diffDocuments(released, doc);
    expect(changes).toEqual([
      {
        kind: 'additive',
        where: 'POST /api/v1/tenants/{slug}/users request body (application/json) locale',
        message: 'new optional request field',
      },
    ]);
  });

  it('fails while the minor stays, and while the changelog does not name the version', () => {
    const doc = copy();
    addOptionalField(doc);
    const same = checkContract({ generated: doc, contracts: contracts(), changelog });
    expect(same.problems).toEqual([
      'the contract grew (1 additive change) but info.version 1.0.0 has the released minor: make it 1.1.0',
    ]);
    const patch = checkContract({
      generated: withVersion(doc, '1.0.1'),
      contracts: contracts(),
      changelog: 'admin API 1.0.1',
    });
    expect(patch.problems.join('\n')).toMatch(/make it 1\.1\.0/);
    // The changelog as it was before it named 1.1.0 (the contract has grown since 1.0.0).
    const before = changelog.replace(/admin api 1\.1\.0/gi, 'Admin API (a later version)');
    const noLine = checkContract({ generated: withVersion(doc, '1.1.0'), contracts: contracts(), changelog: before });
    expect(noLine.problems).toEqual([
      'CHANGELOG.md does not mention admin API 1.1.0: add a line such as "- Admin API 1.1.0: …"',
    ]);
    const done = checkContract({
      generated: withVersion(doc, '1.1.0'),
      contracts: contracts(),
      changelog: `${before}\n- Admin API 1.1.0: \`locale\` when creating a user.\n`,
    });
    expect(done.problems).toEqual([]);
  });

  it('wording alone needs no new version; a version that goes back or is not semver fails', () => {
    const doc = copy();
    doc.paths['/api/v1/tenants'].get.summary = 'List the tenants you may read';
    doc.components.schemas.User.properties.status.description = 'Reworded';
    const report = checkContract({ generated: doc, contracts: contracts(), changelog });
    expect(report.problems).toEqual([]);
    expect(kinds(report.majors[0]?.changes ?? [])).toEqual(['docs']);
    const newer = withVersion(released, '1.2.0');
    expect(checkContract({ generated: released, contracts: contracts(newer), changelog }).problems).toEqual([
      'info.version 1.0.0 is lower than the released 1.2.0',
    ]);
    expect(
      checkContract({ generated: withVersion(released, 'v1'), contracts: contracts(), changelog }).problems,
    ).toEqual(['info.version "v1" is not semver (MAJOR.MINOR.PATCH)']);
  });

  it('the changelog line names the admin API version', () => {
    expect(changelogMentions('- Admin API 1.1.0: more', '1.1.0')).toBe(true);
    expect(changelogMentions('### Added\n- admin API `1.1.0` adds', '1.1.0')).toBe(true);
    expect(changelogMentions('## [1.1.0] - 2026-01-01', '1.1.0')).toBe(false);
    expect(changelogMentions('- Admin API 1.1.01', '1.1.0')).toBe(false);
    expect(changelogMentions('- Admin API 1x1y0', '1.1.0')).toBe(false);
    expect(changelogMentions(changelog, released.info.version)).toBe(true);
  });
});

describe('a breaking change ships as a new major under /api/v2 beside /api/v1', () => {
  const user = '/api/v1/tenants/{slug}/users/{id}';
  const v2User = '/api/v2/tenants/{slug}/users/{id}';
  const withV2 = (): Doc => {
    const doc = withVersion(copy(), '2.0.0');
    const op = structuredClone(doc.paths[user]);
    delete op.get.responses['404']; // breaking, were it v1
    doc.paths[v2User] = op;
    return doc;
  };

  it('passes while /api/v1 keeps its contract', () => {
    const report = checkContract({
      generated: withV2(),
      contracts: contracts(),
      changelog: '- Admin API 2.0.0: /api/v2',
    });
    expect(report.problems).toEqual([]);
    expect(report.majors.map((m) => [m.major, m.released])).toEqual([
      [1, '1.0.0'],
      [2, null],
    ]);
  });

  it('fails when /api/v1 breaks or stops being served, and freezes /api/v1 once /api/v2 exists', () => {
    const dropped = withV2();
    delete dropped.paths[user];
    expect(
      checkContract({ generated: dropped, contracts: contracts(), changelog: 'admin API 2.0.0' }).problems.join('\n'),
    ).toMatch(/1 breaking change to \/api\/v1/);
    const gone = withV2();
    for (const path of Object.keys(gone.paths)) if (path.startsWith('/api/v1/')) delete gone.paths[path];
    expect(
      checkContract({ generated: gone, contracts: contracts(), changelog: 'admin API 2.0.0' }).problems.join('\n'),
    ).toMatch(/\/api\/v1 \(released 1\.0\.0\) is no longer served/);
    const grown = withV2();
    grown.paths[user].get.responses['418'] = { description: 'Teapot' };
    expect(checkContract({ generated: grown, contracts: contracts(), changelog: 'admin API 2.0.0' }).problems).toEqual([
      '/api/v1 is frozen since /api/v2 exists (1 change): make additions in /api/v2',
    ]);
  });

  it('the version follows the newest major; /api/v2 paths under 1.x fail', () => {
    const doc = withVersion(withV2(), '1.1.0');
    expect(
      checkContract({ generated: doc, contracts: contracts(), changelog: 'admin API 1.1.0' }).problems.join('\n'),
    ).toMatch(/info\.version 1\.1\.0 does not match the newest major served, \/api\/v2/);
    const outside = copy();
    outside.paths['/admin/things'] = outside.paths[user];
    expect(checkContract({ generated: outside, contracts: contracts(), changelog }).problems).toContain(
      'path /admin/things is outside every /api/vN: the contract covers /api/v1, /api/v2…',
    );
  });

  it('a released /api/v2 is checked like /api/v1', () => {
    const generated = withV2();
    const v2 = structuredClone(selectMajor(generated, 2));
    const map = new Map<number, Doc>([
      [1, released],
      [2, v2],
    ]);
    expect(checkContract({ generated, contracts: map, changelog: '' }).problems).toEqual([]);
    delete generated.paths[v2User].get.responses['400'];
    expect(checkContract({ generated, contracts: map, changelog: '' }).problems.join('\n')).toMatch(
      /1 breaking change to \/api\/v2 \(released 2\.0\.0\): ship it in a new major, \/api\/v3/,
    );
  });

  it('--accept-breaking lets a release through with a new minor and a changelog line', () => {
    const doc = copy();
    delete doc.paths[user].get.responses['404'];
    const base = {
      generated: doc,
      contracts: contracts(),
      changelog: 'admin API 1.1.0',
      acceptBreaking: true,
      releasing: true,
    };
    expect(checkContract(base).problems.join('\n')).toMatch(/make it 1\.1\.0/);
    expect(checkContract({ ...base, generated: withVersion(doc, '1.1.0') }).problems).toEqual([]);
  });
});

/** A document with one operation, POST /api/v1/things: `req` its body, `res` its 200 answer. */
function tiny(req: unknown, res: unknown, schemas: Record<string, unknown> = {}): Doc {
  return {
    openapi: '3.1.0',
    info: { title: 't', version: '1.0.0' },
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/things': {
        post: {
          requestBody: { required: true, content: { [json]: { schema: req } } },
          responses: { '200': { description: 'ok', content: { [json]: { schema: res } } } },
        },
      },
    },
  };
}

const obj = (properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  required,
  ...extra,
});
const str = { type: 'string' };

describe('each rule, on small documents', () => {
  // [rule, before, after, kinds for a request body, kinds for a response]
  it.each<[string, unknown, unknown, ChangeKind[], ChangeKind[]]>([
    ['field removed', obj({ a: str, b: str }), obj({ a: str }), ['breaking'], ['breaking']],
    ['new optional field', obj({ a: str }), obj({ a: str, b: str }), ['additive'], ['additive']],
    ['new required field', obj({ a: str }), obj({ a: str, b: str }, ['b']), ['breaking'], ['additive']],
    ['field made required', obj({ a: str }), obj({ a: str }, ['a']), ['breaking'], ['additive']],
    ['field made optional', obj({ a: str }, ['a']), obj({ a: str }), ['additive'], ['breaking']],
    ['string → enum', str, { type: 'string', enum: ['x'] }, ['breaking'], ['additive']],
    [
      'enum value removed',
      { type: 'string', enum: ['x', 'y'] },
      { type: 'string', enum: ['x'] },
      ['breaking'],
      ['breaking'],
    ],
    [
      'enum value added',
      { type: 'string', enum: ['x'] },
      { type: 'string', enum: ['x', 'y'] },
      ['additive'],
      ['additive'],
    ],
    ['enum → any string', { type: 'string', enum: ['x'] }, str, ['additive'], ['breaking']],
    ['const added', str, { type: 'string', const: 'x' }, ['breaking'], ['additive']],
    [
      'const changed',
      { type: 'string', const: 'x' },
      { type: 'string', const: 'y' },
      ['additive', 'breaking'],
      ['additive', 'breaking'],
    ],
    ['type array loses null', { type: ['string', 'null'] }, str, ['breaking'], ['additive']],
    ['type array gains null', str, { type: ['string', 'null'] }, ['additive'], ['breaking']],
    [
      'anyOf with null loses null',
      { anyOf: [{ type: 'integer' }, { type: 'null' }] },
      { type: 'integer' },
      ['breaking'],
      ['additive'],
    ],
    [
      'anyOf with null gains null',
      { type: 'integer' },
      { anyOf: [{ type: 'integer' }, { type: 'null' }] },
      ['additive'],
      ['breaking'],
    ],
    ['anyOf with null ≡ type array', { anyOf: [str, { type: 'null' }] }, { type: ['string', 'null'] }, [], []],
    ['integer → number', { type: 'integer' }, { type: 'number' }, ['additive'], ['breaking']],
    ['number → integer', { type: 'number' }, { type: 'integer' }, ['breaking'], ['additive']],
    ['string → integer', str, { type: 'integer' }, ['additive', 'breaking'], ['additive', 'breaking']],
    ['any → string', {}, str, ['breaking'], ['additive']],
    [
      'maxLength lowered',
      { type: 'string', maxLength: 10 },
      { type: 'string', maxLength: 5 },
      ['breaking'],
      ['additive'],
    ],
    [
      'maxLength raised',
      { type: 'string', maxLength: 5 },
      { type: 'string', maxLength: 10 },
      ['additive'],
      ['additive'],
    ],
    ['maxLength added', str, { type: 'string', maxLength: 5 }, ['breaking'], ['additive']],
    [
      'minLength raised',
      { type: 'string', minLength: 1 },
      { type: 'string', minLength: 2 },
      ['breaking'],
      ['additive'],
    ],
    ['minimum raised', { type: 'integer', minimum: 0 }, { type: 'integer', minimum: 1 }, ['breaking'], ['additive']],
    ['maximum lowered', { type: 'integer', maximum: 9 }, { type: 'integer', maximum: 8 }, ['breaking'], ['additive']],
    ['exclusiveMinimum added', { type: 'number' }, { type: 'number', exclusiveMinimum: 0 }, ['breaking'], ['additive']],
    [
      'maxItems lowered',
      { type: 'array', items: str, maxItems: 9 },
      { type: 'array', items: str, maxItems: 3 },
      ['breaking'],
      ['additive'],
    ],
    [
      'minItems added',
      { type: 'array', items: str },
      { type: 'array', items: str, minItems: 1 },
      ['breaking'],
      ['additive'],
    ],
    ['pattern added', str, { type: 'string', pattern: '^a' }, ['breaking'], ['additive']],
    [
      'pattern changed',
      { type: 'string', pattern: '^a' },
      { type: 'string', pattern: '^b' },
      ['breaking'],
      ['additive'],
    ],
    ['pattern removed', { type: 'string', pattern: '^a' }, str, ['additive'], ['additive']],
    ['format added', str, { type: 'string', format: 'email' }, ['breaking'], ['additive']],
    [
      'uniqueItems added',
      { type: 'array', items: str },
      { type: 'array', items: str, uniqueItems: true },
      ['breaking'],
      ['additive'],
    ],
    [
      'items narrowed',
      { type: 'array', items: str },
      { type: 'array', items: { type: 'string', enum: ['x'] } },
      ['breaking'],
      ['additive'],
    ],
    [
      'nested field removed',
      obj({ o: obj({ a: str, b: str }) }),
      obj({ o: obj({ a: str }) }),
      ['breaking'],
      ['breaking'],
    ],
    [
      'unknown fields now refused',
      obj({ a: str }),
      obj({ a: str }, [], { additionalProperties: false }),
      ['breaking'],
      ['additive'],
    ],
    [
      'unknown fields now accepted',
      obj({ a: str }, [], { additionalProperties: false }),
      obj({ a: str }),
      ['additive'],
      ['additive'],
    ],
    [
      'map values narrowed',
      { type: 'object', additionalProperties: str },
      { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
      ['breaking'],
      ['additive'],
    ],
    [
      'map values unconstrained',
      { type: 'object', additionalProperties: str },
      { type: 'object', additionalProperties: {} },
      ['additive'],
      ['breaking'],
    ],
    [
      'map keys narrowed',
      { type: 'object', propertyNames: str },
      { type: 'object', propertyNames: { type: 'string', maxLength: 3 } },
      ['breaking'],
      ['additive'],
    ],
    [
      'default changed',
      { type: 'boolean', default: false },
      { type: 'boolean', default: true },
      ['breaking'],
      ['docs'],
    ],
    ['default added', { type: 'boolean' }, { type: 'boolean', default: true }, ['additive'], ['docs']],
    [
      'description changed',
      { type: 'string', description: 'a' },
      { type: 'string', description: 'b' },
      ['docs'],
      ['docs'],
    ],
    ['deprecated', str, { type: 'string', deprecated: true }, ['additive'], ['additive']],
    [
      'anyOf branch removed',
      { anyOf: [str, { type: 'integer' }] },
      { anyOf: [str, { type: 'boolean' }] },
      ['additive', 'breaking'],
      ['additive', 'breaking'],
    ],
    [
      'anyOf branch added',
      { anyOf: [str, { type: 'integer' }] },
      { anyOf: [str, { type: 'integer' }, { type: 'boolean' }] },
      ['additive'],
      ['breaking'],
    ],
    ['anyOf → one of its branches', { anyOf: [str, { type: 'integer' }] }, str, ['breaking'], ['additive']],
    [
      'anyOf branch widened',
      { anyOf: [obj({ a: str }), { type: 'integer' }] },
      { anyOf: [obj({ a: str, b: str }), { type: 'integer' }] },
      ['additive'],
      ['additive'],
    ],
    ['keyword the check does not know', str, { type: 'string', not: { const: '' } }, ['breaking'], ['breaking']],
    ['boolean schema false', str, false, ['breaking'], ['additive']],
    ['unchanged', obj({ a: str }, ['a']), obj({ a: str }, ['a']), [], []],
  ])('%s', (_rule, before, after, request, response) => {
    expect(kinds(diffDocuments(tiny(before, {}), tiny(after, {}))), 'in a request body').toEqual(request);
    expect(kinds(diffDocuments(tiny({}, before), tiny({}, after))), 'in a response').toEqual(response);
  });

  it('resolves $refs, follows them through cycles, and leaves one dangling $ref alone', () => {
    const node = obj({ name: str, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } }, [
      'name',
    ]);
    const before = tiny({ $ref: '#/components/schemas/Node' }, { $ref: '#/components/schemas/Node' }, { Node: node });
    expect(diffDocuments(before, tiny(node, node, { Node: node }))).toEqual([]); // inlined once: the same schema
    const changed = structuredClone(before);
    changed.components.schemas.Node.properties.name.maxLength = 5;
    expect(diffDocuments(before, changed).map((c) => `${c.kind} ${c.where}`)).toEqual([
      'breaking POST /api/v1/things request body (application/json) name',
      'breaking POST /api/v1/things request body (application/json) children[].name',
      'additive POST /api/v1/things response 200 (application/json) name',
      'additive POST /api/v1/things response 200 (application/json) children[].name',
    ]);
    const dangling = tiny({ $ref: '#/components/schemas/Gone' }, {});
    expect(diffDocuments(dangling, structuredClone(dangling))).toEqual([]);
    expect(kinds(diffDocuments(tiny(str, {}), dangling))).toEqual(['breaking']);
  });

  const op = (d: Doc) => d.paths['/api/v1/things'].post;
  it.each<[string, (d: Doc) => void, ChangeKind[]]>([
    ['path added', (d) => (d.paths['/api/v1/others'] = { get: { responses: {} } }), ['additive']],
    ['operation added', (d) => (d.paths['/api/v1/things'].get = { responses: {} }), ['additive']],
    ['operation removed', (d) => delete d.paths['/api/v1/things'].post, ['breaking']],
    ['status added', (d) => (op(d).responses['404'] = { description: 'no' }), ['additive']],
    ['status removed', (d) => delete op(d).responses['200'], ['breaking']],
    ['response media type removed', (d) => (op(d).responses['200'].content = {}), ['breaking']],
    ['request media type added', (d) => (op(d).requestBody.content['text/plain'] = { schema: str }), ['additive']],
    ['request body made optional', (d) => (op(d).requestBody.required = false), ['additive']],
    ['request body removed', (d) => delete op(d).requestBody, ['breaking']],
    ['optional parameter added', (d) => (op(d).parameters = [{ in: 'query', name: 'q', schema: str }]), ['additive']],
    [
      'required header added',
      (d) => (op(d).parameters = [{ in: 'header', name: 'X-Org', required: true, schema: str }]),
      ['breaking'],
    ],
    ['operation made public', (d) => (op(d).security = []), ['additive', 'breaking']],
    ['security scheme changed', (d) => (d.components.securitySchemes.bearer.scheme = 'basic'), ['breaking']],
    [
      'operationId added, title changed',
      (d) => {
        op(d).operationId = 'makeThing';
        d.info.title = 'renamed';
      },
      ['additive', 'docs'],
    ],

    ['summary changed', (d) => (op(d).summary = 'Make a thing'), ['docs']],
    ['callbacks: not classified', (d) => (op(d).callbacks = { x: {} }), ['breaking']],
    ['info.version alone', (d) => (d.info.version = '1.1.0'), []],
  ])('%s', (_rule, edit, expected) => {
    const before = tiny(obj({ a: str }), obj({ a: str }));
    const after = structuredClone(before);
    edit(after);
    expect(kinds(diffDocuments(before, after))).toEqual(expected);
  });

  it('an operationId renamed breaks generated clients', () => {
    const before = tiny({}, {});
    before.paths['/api/v1/things'].post.operationId = 'makeThing';
    const after = structuredClone(before);
    after.paths['/api/v1/things'].post.operationId = 'createThing';
    expect(diffDocuments(before, after)).toEqual([
      { kind: 'breaking', where: 'POST /api/v1/things', message: 'operationId "makeThing" → "createThing"' },
    ]);
  });

  it('parameters: made required, narrowed, removed, renamed in the path', () => {
    const withParams = (params: unknown[], path = '/api/v1/things/{id}'): Doc => ({
      ...tiny({}, {}),
      paths: { [path]: { get: { parameters: params, responses: { '200': { description: 'ok' } } } } },
    });
    const id = { in: 'path', name: 'id', required: true, schema: str };
    const q = { in: 'query', name: 'q', schema: { type: 'integer', maximum: 10 } };
    const base = withParams([id, q]);
    expect(diffDocuments(base, withParams([id, { ...q, required: true }]))).toEqual([
      { kind: 'breaking', where: 'GET /api/v1/things/{id} query parameter q', message: 'now required' },
    ]);
    expect(diffDocuments(base, withParams([id, { ...q, schema: { type: 'integer', maximum: 5 } }]))).toEqual([
      { kind: 'breaking', where: 'GET /api/v1/things/{id} query parameter q', message: 'maximum 10 → 5 (tighter)' },
    ]);
    expect(kinds(diffDocuments(base, withParams([id])))).toEqual(['breaking']);
    // A path parameter's name is no part of the URL a client calls.
    expect(diffDocuments(base, withParams([{ ...id, name: 'thingId' }, q], '/api/v1/things/{thingId}'))).toEqual([]);
  });

  it('response headers: removed, may now be missing', () => {
    const withHeader = (header: unknown): Doc => {
      const d = tiny({}, {});
      d.paths['/api/v1/things'].post.responses['200'].headers = header ? { ETag: header } : {};
      return d;
    };
    const etag = { required: true, schema: str };
    expect(kinds(diffDocuments(withHeader(etag), withHeader(null)))).toEqual(['breaking']);
    expect(kinds(diffDocuments(withHeader(etag), withHeader({ schema: str })))).toEqual(['breaking']);
    expect(kinds(diffDocuments(withHeader(null), withHeader(etag)))).toEqual(['additive']);
  });
});

describe('scripts/api-contract.mjs', () => {
  const script = join(root, 'scripts/api-contract.mjs');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-contract-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const writeDoc = (name: string, doc: Doc) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };

  it('passes on the generated document and prints the comparison', () => {
    const { status, out } = run();
    expect(out).toContain('/api/v1 against packages/server/api/v1.json (released 1.0.0): 0 breaking');
    expect(out).toContain('OK: every released contract holds.');
    expect(status).toBe(0);
  });

  it('prints each breaking change and fails', () => {
    const doc = copy();
    delete doc.paths['/api/v1/tenants/{slug}'].get.responses['404'];
    const { status, out } = run('--document', writeDoc('broken.json', doc));
    expect(out).toContain('  breaking  GET /api/v1/tenants/{slug} response 404: status 404 removed\n');
    expect(out).toMatch(/FAIL 1 breaking change to \/api\/v1 \(released 1\.0\.0\)/);
    expect(status).toBe(1);
  });

  it('releases a contract deliberately: refused while a rule fails, written when they all hold', () => {
    const contractsDir = join(dir, 'api');
    const log = join(dir, 'CHANGELOG.md');
    writeFileSync(log, '# Changelog\n\n## [Unreleased]\n\n### Added\n- Admin API 1.0.0: released.\n');
    const first = run(
      '--release',
      '--document',
      writeDoc('v1.json', released),
      '--contracts',
      contractsDir,
      '--changelog',
      log,
    );
    expect(first.out).toContain('Released admin API 1.0.0');
    expect(first.status).toBe(0);
    expect(JSON.parse(readFileSync(join(contractsDir, 'v1.json'), 'utf8'))).toEqual(released);

    const grown = withVersion(copy(), '1.1.0');
    grown.paths['/api/v1/tenants'].get.responses['429'] = { description: 'Slow down' };
    const grownPath = writeDoc('grown.json', grown);
    const refused = run('--release', '--document', grownPath, '--contracts', contractsDir, '--changelog', log);
    expect(refused.out).toContain('  additive  GET /api/v1/tenants response 429: status 429 added');
    expect(refused.out).toContain('FAIL CHANGELOG.md does not mention admin API 1.1.0');
    expect(refused.out).toContain('Nothing released.');
    expect(refused.status).toBe(1);

    writeFileSync(log, `${readFileSync(log, 'utf8')}- Admin API 1.1.0: 429 on the tenant list.\n`);
    const second = run('--release', '--document', grownPath, '--contracts', contractsDir, '--changelog', log);
    expect(second.status, second.out).toBe(0);
    expect(JSON.parse(readFileSync(join(contractsDir, 'v1.json'), 'utf8')).info.version).toBe('1.1.0');
    expect(run('--document', grownPath, '--contracts', contractsDir, '--changelog', log).status).toBe(0);
  });

  it('refuses bad arguments clearly', () => {
    const unknown = run('--frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.out).toMatch(/^api-contract: Unknown option '--frobnicate'/);
    const missing = run('--document', join(dir, 'nope.json'));
    expect(missing.status).toBe(2);
    expect(missing.out).toMatch(/cannot read document .*nope\.json: ENOENT/);
    expect(run('--accept-breaking').out).toContain('--accept-breaking goes with --release');
  });
});
