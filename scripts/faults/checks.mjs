/**
 * What the fault test verifies beside the load: races (one fresh code, one fresh refresh
 * token, sent to every node at once: at most one may be accepted), revocation drills (an API
 * key, a service client and a user's sessions revoked; after the notice time no node may
 * accept them), probes straight to each node, and the final checks (every used code and
 * refresh token tried again at every node; every acknowledged user still there).
 */
import { randomBytes } from 'node:crypto';
import { Client, clientCredentials, NetError, now, signIn } from './load.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tokenUrl = (ctx, node) => `${node.url}/t/${ctx.slug}/token`;

/** Sends `send(node)` to every live node at once; resolves with the answers (or errors) by node name. */
async function atOnce(nodes, send) {
  const live = nodes.filter((n) => n.up);
  const settled = await Promise.allSettled(live.map((n) => send(n)));
  return settled.map((s, i) => ({ node: live[i].name, answer: s.status === 'fulfilled' ? s.value : s.reason }));
}

const accepted = (answers) => answers.filter((a) => a.answer?.status === 200).map((a) => a.node);
const describe = (answers) =>
  answers
    .map((a) => `${a.node}: ${a.answer instanceof Error ? (a.answer.code ?? 'error') : a.answer.status}`)
    .join(', ');

/**
 * One race: a sign-in through the proxy, its code redeemed at every live node at once; then
 * another sign-in, its refresh token used at every live node at once. More than one
 * acceptance is a violation; none at all fails the operation (the documented outcome of
 * concurrent redemptions is exactly one success).
 */
export async function race(client, ctx, rec, nodes) {
  const callback = await signIn(client, ctx, rec, ctx.raceUser, { exchangeAt: 'nodes' });
  const fields = {
    grant_type: 'authorization_code',
    code: callback.code,
    redirect_uri: ctx.redirectUri,
    code_verifier: callback.verifier,
  };
  const entry = { code: callback.code, verifier: callback.verifier, accepted: 0, unknown: true };
  rec.codes.push(entry);
  const codeAnswers = await atOnce(nodes, (n) => client.token(tokenUrl(ctx, n), ctx.web, fields));
  entry.accepted = accepted(codeAnswers).length;
  entry.unknown = codeAnswers.some((a) => a.answer instanceof Error || a.answer.status >= 500);
  if (entry.accepted > 1)
    rec.violations.push(`a code was accepted ${entry.accepted} times at once (${describe(codeAnswers)})`);
  if (entry.accepted === 0) throw new Error(`no node accepted a fresh code (${describe(codeAnswers)})`);

  const tokens = await signIn(client, ctx, rec, ctx.raceUser);
  const used = { token: tokens.refresh_token, accepted: 0, unknown: true };
  rec.refreshTokens.push(used);
  const refreshAnswers = await atOnce(nodes, (n) =>
    client.token(tokenUrl(ctx, n), ctx.web, { grant_type: 'refresh_token', refresh_token: used.token }),
  );
  used.accepted = accepted(refreshAnswers).length;
  used.unknown = refreshAnswers.some((a) => a.answer instanceof Error || a.answer.status >= 500);
  if (used.accepted > 1) {
    rec.violations.push(`a refresh token was accepted ${used.accepted} times at once (${describe(refreshAnswers)})`);
  }
  if (used.accepted === 0) throw new Error(`no node accepted a fresh refresh token (${describe(refreshAnswers)})`);
}

/** Races every `everyMs` until stopped, recorded as operations of kind `race`. */
export function startRaces(ctx, rec, nodes, everyMs = 2500) {
  let stopped = false;
  const client = new Client({ localAddress: '127.0.0.4' });
  const done = (async () => {
    while (!stopped) {
      await rec.op('race', client, () => race(client, ctx, rec, nodes));
      await sleep(everyMs);
    }
  })();
  return {
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

/**
 * Probes straight to each node every `everyMs`: an admin API read (which needs the
 * database), recorded with its status or socket error and how long it took.
 */
export function startProbes(ctx, rec, nodes, everyMs = 500) {
  let stopped = false;
  const client = new Client({ localAddress: '127.0.0.2' });
  const loops = nodes.map(async (node) => {
    while (!stopped) {
      const start = now();
      const down = !node.up;
      let result;
      try {
        const answer = await client.json(`${node.url}/api/v1/tenants/${ctx.slug}/users?limit=1`, { token: ctx.apiKey });
        result = answer.status === 200 ? 'ok' : `${answer.status} ${answer.body?.error?.code ?? ''}`.trim();
      } catch (err) {
        result = err instanceof NetError ? err.code : String(err);
      }
      rec.probes.push({ node: node.name, start, end: now(), result, down });
      await sleep(everyMs);
    }
  });
  return {
    stop: () => {
      stopped = true;
      return Promise.all(loops);
    },
  };
}

/** An admin API call through the proxy that must answer `expected`, retried while a fault makes it fail (up to 10 s). */
async function must(client, ctx, method, path, expected, body) {
  const deadline = now() + 10_000;
  for (;;) {
    let problem;
    try {
      const answer = await client.json(`${ctx.proxyUrl}/api/v1${path}`, { method, token: ctx.apiKey, body });
      if (answer.status === expected) return { ...answer, at: now() };
      problem = `${answer.status} ${answer.text.slice(0, 200)}`;
      if (answer.status < 500) throw new Error(`${method} ${path} answered ${problem}`);
    } catch (err) {
      if (!(err instanceof NetError)) throw err;
      problem = err.code;
    }
    if (now() > deadline) throw new Error(`${method} ${path}: no ${expected} within 10 s (last: ${problem})`);
    await sleep(250);
  }
}

/**
 * A revocation drill's credentials: an API key and a service client holding tenant:admin, and
 * a user signed in once per node (a refresh token each). Made while nothing is failing.
 */
export async function prepareDrill(ctx, rec, nodes, label) {
  const client = new Client({ localAddress: '127.0.0.3' });
  const base = `/tenants/${ctx.slug}`;
  const key = (await must(client, ctx, 'POST', `${base}/api-keys`, 201, { name: label, roles: ['tenant:admin'] })).body;
  const service = (
    await must(client, ctx, 'POST', `${base}/clients`, 201, { kind: 'service', name: label, roles: ['tenant:admin'] })
  ).body;
  const user = {
    email: `drill-${randomBytes(4).toString('hex')}@faults.test`,
    password: randomBytes(18).toString('base64url'),
  };
  const made = await must(client, ctx, 'POST', `${base}/users`, 201, { ...user, emailVerified: true });
  const refreshTokens = [];
  for (const _ of nodes) refreshTokens.push((await signIn(client, ctx, rec, user)).refresh_token);
  return {
    label,
    client,
    key: { id: key.id, secret: key.secret },
    service: { rowId: service.id, id: service.clientId, secret: service.clientSecret },
    userId: made.body.id,
    refreshTokens,
  };
}

/**
 * Fills every node's caches with the drill's credentials (each must be accepted now), then
 * revokes them through the proxy: the API key deleted, the service client deleted, the user's
 * sessions ended. Resolves with the time the last revocation was acknowledged.
 */
export async function revokeDrill(ctx, drill, nodes) {
  const { client } = drill;
  const problems = [];
  drill.accessTokens = {};
  for (const node of nodes.filter((n) => n.alive)) {
    const byKey = await client.json(`${node.url}/api/v1/tenants/${ctx.slug}`, { token: drill.key.secret });
    if (byKey.status !== 200)
      problems.push(`${node.name}: the API key was refused before its revocation (${byKey.status})`);
    const token = await clientCredentials(client, ctx, tokenUrl(ctx, node), drill.service);
    drill.accessTokens[node.name] = token;
    const byToken = await client.json(`${node.url}/api/v1/tenants/${ctx.slug}`, { token });
    if (byToken.status !== 200) problems.push(`${node.name}: the service token was refused before (${byToken.status})`);
  }
  if (problems.length > 0) throw new Error(`drill ${drill.label}: ${problems.join('; ')}`);
  const base = `/tenants/${ctx.slug}`;
  await must(client, ctx, 'DELETE', `${base}/api-keys/${drill.key.id}`, 204);
  await must(client, ctx, 'DELETE', `${base}/clients/${drill.service.rowId}`, 204);
  const last = await must(client, ctx, 'DELETE', `${base}/users/${drill.userId}/sessions`, 204);
  return last.at;
}

/**
 * Asks every live node directly whether it still accepts the drill's revoked credentials:
 * the API key and the service client's earlier access token at the admin API, the service
 * client at the token endpoint, and (with `refreshToo`, once: a refresh token can be tried
 * only once) one of the user's refresh tokens per node. Resolves with the acceptances found.
 */
export async function checkDrill(ctx, drill, nodes, { refreshToo }) {
  const { client } = drill;
  const found = [];
  const asked = [];
  for (const [i, node] of nodes.entries()) {
    if (!node.alive) continue;
    const tries = [
      ['API key', () => client.json(`${node.url}/api/v1/tenants/${ctx.slug}`, { token: drill.key.secret })],
      [
        'client credentials',
        () => client.token(tokenUrl(ctx, node), drill.service, { grant_type: 'client_credentials' }),
      ],
    ];
    const token = drill.accessTokens[node.name];
    if (token)
      tries.push(['service access token', () => client.json(`${node.url}/api/v1/tenants/${ctx.slug}`, { token })]);
    if (refreshToo) {
      const refreshToken = drill.refreshTokens[i];
      tries.push([
        'refresh token',
        () => client.token(tokenUrl(ctx, node), ctx.web, { grant_type: 'refresh_token', refresh_token: refreshToken }),
      ]);
    }
    for (const [what, send] of tries) {
      let status;
      try {
        status = (await send()).status;
      } catch (err) {
        status = err instanceof NetError ? err.code : String(err);
      }
      asked.push(`${node.name} ${what}: ${status}`);
      if (status === 200) found.push(`${node.name} accepted the revoked ${what} (drill ${drill.label})`);
    }
  }
  return { found, asked };
}

/**
 * Tries every used code and refresh token once more at every node, one node after another.
 * A code or token accepted more than once in all (its first use included) is a violation.
 */
export async function replayAll(ctx, rec, nodes, concurrency = 6) {
  const client = new Client({ localAddress: '127.0.0.5' });
  const jobs = [
    ...rec.codes.map((c) => ({
      what: 'code',
      entry: c,
      fields: {
        grant_type: 'authorization_code',
        code: c.code,
        redirect_uri: ctx.redirectUri,
        code_verifier: c.verifier,
      },
    })),
    ...rec.refreshTokens.map((t) => ({
      what: 'refresh token',
      entry: t,
      fields: { grant_type: 'refresh_token', refresh_token: t.token },
    })),
  ];
  const violations = [];
  const counts = {
    codes: rec.codes.length,
    refreshTokens: rec.refreshTokens.length,
    requests: 0,
    noAnswer: 0,
    statuses: {},
  };
  let next = 0;
  const work = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      let total = job.entry.accepted;
      for (const node of nodes.filter((n) => n.alive)) {
        counts.requests++;
        try {
          const { status } = await client.token(tokenUrl(ctx, node), ctx.web, job.fields);
          counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;
          if (status === 200) total++;
        } catch {
          counts.noAnswer++;
        }
      }
      if (total > 1)
        violations.push(
          `a ${job.what} was accepted ${total} times (its first use ${job.entry.accepted ? 'accepted' : 'unanswered'})`,
        );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  return { violations, counts };
}

/** Every user whose creation was acknowledged, looked for in the user list of every node. */
export async function acknowledgedWrites(ctx, rec, nodes) {
  const client = new Client({ localAddress: '127.0.0.5' });
  const missing = new Set();
  const unknownFound = new Set();
  for (const node of nodes.filter((n) => n.alive)) {
    const ids = new Set();
    const emails = new Set();
    let cursor;
    do {
      const query = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) });
      const page = await client.json(`${node.url}/api/v1/tenants/${ctx.slug}/users?${query}`, { token: ctx.apiKey });
      if (page.status !== 200) throw new Error(`${node.name}: listing users answered ${page.status}`);
      for (const u of page.body.items) {
        ids.add(u.id);
        emails.add(u.email);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
    for (const u of rec.users) if (!ids.has(u.id)) missing.add(`${u.id} (${u.email}) missing on ${node.name}`);
    for (const e of rec.unknownUsers) if (emails.has(e)) unknownFound.add(e);
  }
  return {
    acknowledged: rec.users.length,
    unknown: rec.unknownUsers.length,
    unknownFound: unknownFound.size,
    missing: [...missing],
  };
}
