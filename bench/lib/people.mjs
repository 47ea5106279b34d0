/**
 * Plausible users for the benchmark: a seeded mix of names from several languages, the
 * usual email shapes of a company directory, and the search prefixes an admin would type.
 * Ids are made exactly as packages/server/src/ids.ts makes them (128 random bits, Crockford
 * base32, lower case), so the server's id syntax check accepts them.
 */
import { randomBytes } from 'node:crypto';

const firstNames = `
  james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan
  joseph jessica thomas sarah charles karen christopher nancy daniel lisa matthew betty anthony
  margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth
  dorothy kevin carol brian amanda george melissa edward deborah ronald stephanie timothy rebecca
  jason sharon jeffrey laura ryan cynthia jacob kathleen gary amy nicholas shirley eric angela
  jonathan helen maria jose juan ana luis carmen carlos lucia miguel sofia hans anna peter ursula
  klaus monika jürgen sabine stefan petra pierre marie jean camille louis chloé hugo léa lucas manon
  wei fang li jing hiroshi yuki kenji akiko min-jun seo-yeon arjun priya rahul ananya vikram deepa
  mohammed fatima ahmed aisha olga ivan dmitri natasha søren ingrid lars astrid łukasz zofia oluwaseun
  chidi amara kwame giulia marco francesca alessandro zoë noah
`
  .trim()
  .split(/\s+/);

const lastNames = `
  smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
  wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark
  ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams
  nelson baker hall rivera campbell mitchell carter roberts müller schmidt schneider fischer weber
  meyer wagner becker schulz hoffmann dubois lefèvre moreau laurent simon michel bernard petit durand
  leroy wang zhang liu chen yang huang zhao wu zhou xu sato suzuki takahashi tanaka watanabe kim park
  choi jung kang patel sharma singh kumar gupta khan ali hussain ivanov petrov nielsen hansen andersen
  larsen kowalski nowak wiśniewski okafor adeyemi mensah rossi russo ferrari esposito bianchi romano
  colombo ricci marino greco
`
  .trim()
  .split(/\s+/);

const domains = `
  acme.example globex.example initech.example umbrella.example hooli.example gmail.example
  outlook.example proton.example fastmail.example yahoo.example
`
  .trim()
  .split(/\s+/);

const idAlphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/** The same construction as newId() in packages/server/src/ids.ts. */
export function newId(prefix, bytes = randomBytes(16)) {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += idAlphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += idAlphabet[(buffer << (5 - bits)) & 31];
  return `${prefix}_${out}`;
}

/** mulberry32: small, fast and good enough to make the same people on every run. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const capitalise = (s) => s.replace(/(^|[\s-])(\p{L})/gu, (_m, sep, c) => sep + c.toUpperCase());
/** ASCII for the local part of an email: strip accents, and the letters NFD leaves alone. */
const ascii = (s) =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/ø/g, 'o')
    .replace(/ł/g, 'l')
    .replace(/[^a-z0-9]/g, '');

/**
 * `count` user rows for `tenantId`, as the users table stores them (see
 * packages/server/src/db/schema.ts): email normalised to lower case, name_sort the NFKC
 * lower-cased display name ('' when none), attributes '{}', no password.
 */
export function makeUsers(tenantId, count, seed = 20240601) {
  const random = seededRandom(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const taken = new Set();
  const now = Date.now();
  const yearMs = 365 * 86_400_000;
  const rows = [];
  for (let i = 0; i < count; i++) {
    const first = pick(firstNames);
    const last = pick(lastNames);
    const f = ascii(first);
    const l = ascii(last);
    const domain = pick(domains);
    const shape = random();
    let local;
    if (shape < 0.4) local = `${f}.${l}`;
    else if (shape < 0.6) local = `${f[0]}${l}`;
    else if (shape < 0.7) local = f;
    else if (shape < 0.85) local = `${f}_${l}${Math.floor(random() * 100)}`;
    else local = `${l}${f[0]}${Math.floor(random() * 1000)}`;
    let email = `${local}@${domain}`;
    for (let n = 2; taken.has(email); n++) email = `${local}${n}@${domain}`;
    taken.add(email);
    const displayName = random() < 0.03 ? null : capitalise(`${first} ${last}`);
    const createdAt = now - Math.floor(random() * yearMs);
    const updatedAt = createdAt + Math.floor(random() * (now - createdAt));
    const lastLoginAt = random() < 0.3 ? null : updatedAt + Math.floor(random() * (now - updatedAt));
    rows.push({
      id: newId('usr'),
      tenant_id: tenantId,
      email,
      email_verified: random() < 0.8 ? 1 : 0,
      display_name: displayName,
      name_sort: (displayName ?? '').normalize('NFKC').toLowerCase(),
      status: random() < 0.95 ? 'active' : 'disabled',
      attributes: '{}',
      password_hash: null,
      password_changed_at: null,
      created_at: createdAt,
      updated_at: updatedAt,
      last_login_at: lastLoginAt,
      version: 1,
    });
  }
  return rows;
}

/** `n` ids drawn from the rows (with repeats, like real traffic). */
export function sampleIds(rows, n, seed = 7) {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => rows[Math.floor(random() * rows.length)].id);
}

/**
 * `n` search prefixes of 2-4 characters taken from existing emails and display names, as an
 * admin types them into a search box: weighted by how common they are, like real searches.
 */
export function samplePrefixes(rows, n, seed = 11) {
  const random = seededRandom(seed);
  const out = [];
  while (out.length < n) {
    const row = rows[Math.floor(random() * rows.length)];
    const source = random() < 0.5 || row.name_sort === '' ? row.email : row.name_sort;
    const prefix = source.slice(0, 2 + Math.floor(random() * 3));
    if (/^[\p{L}\p{N}][\p{L}\p{N}._-]+$/u.test(prefix)) out.push(prefix);
  }
  return out;
}

export const userColumns = [
  'id',
  'tenant_id',
  'email',
  'email_verified',
  'display_name',
  'name_sort',
  'status',
  'attributes',
  'password_hash',
  'password_changed_at',
  'created_at',
  'updated_at',
  'last_login_at',
  'version',
];
