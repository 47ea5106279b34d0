/**
 * Property: oidc-provider's store never lets one tenant's provider read, spend, overwrite or
 * delete another tenant's artifacts, even when it is handed their ids. Rows are looked up by
 * primary key alone (adapter.ts), so the tenant check is code, and this tries to break it:
 * tenant A saves an artifact; tenant B's adapter then runs random operations with A's id,
 * uid, user code and grant id, beside an artifact of its own that shares all but the id. A's
 * artifact must come out exactly as it went in, and B must never see it.
 */
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import type { errors as OidcErrors } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB } from '../src/db/schema.js';
import { DbAdapter, type Payload } from '../src/oidc/adapter.js';
import { dialects } from './helpers/databases.js';
import { createTenant, startTestServer, type TestServer } from './helpers/server.js';

// DeviceCode is not among them: the store refuses the models of features that are off.
const models = ['Session', 'Interaction', 'AuthorizationCode', 'RefreshToken', 'AccessToken', 'Grant'];
const operations = [
  'find',
  'findByUid',
  'findByUserCode',
  'consume',
  'spendOwnTwice',
  'destroy',
  'revokeByGrantId',
  'upsert',
] as const;
const noClients = { clientMetadata: async () => undefined };
const token = fc.string({ minLength: 1, maxLength: 43, unit: fc.constantFrom(...'abcXYZ019-_') });

describe.each(dialects)('tenant isolation in the OIDC store (%s)', (dialect) => {
  let ts: TestServer;
  let db: Kysely<DB>;
  let errors: typeof OidcErrors;
  const tenantIds: string[] = [];

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    db = ts.server.ctx.database.db;
    errors = (await import('oidc-provider')).errors;
    for (let i = 0; i < 2; i++) {
      const slug = await createTenant(ts.api);
      tenantIds.push((await ts.api('GET', `/api/v1/tenants/${slug}`)).body.id as string);
    }
  });
  afterAll(async () => {
    await ts?.close();
  });

  const adapter = (tenant: number, model: string) =>
    new DbAdapter(db, tenantIds[tenant] as string, model, noClients, errors);

  it("never lets tenant B's adapter touch tenant A's artifacts", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...models),
        token,
        fc.array(fc.constantFrom(...operations), { minLength: 1, maxLength: 6 }),
        async (model, suffix, ops) => {
          run++;
          // Unique per run, so that runs do not meet each other's rows.
          const id = `${suffix}-${run}`;
          const grantId = `grant-${run}`;
          const saved: Payload = {
            kind: model,
            jti: id,
            grantId,
            uid: `uid-${run}`,
            clientId: `client-${run}`,
            userCode: `code-${run}`,
            accountId: 'usr_a',
          };
          // A grant's row is its own grant id, and is found "by uid" through its client.
          const aGrant = model === 'Grant' ? id : grantId;
          const aUid = (model === 'Grant' ? saved.clientId : saved.uid) as string;
          const a = adapter(0, model);
          const b = adapter(1, model);
          await a.upsert(id, { ...saved }, 3600);
          // B's own artifact shares A's uid, client, user code and (but for grants, whose row
          // is their own grant id) grant id: B's lookups must find it and never A's, and
          // revoking B's grant, or spending B's artifact twice, takes only B's rows.
          const own = `own-${run}`;
          await b.upsert(own, { ...saved, jti: own, accountId: 'usr_b' }, 3600);
          let ownAlive = true;
          // Found by uid or user code, an artifact comes without its value (jti), which only
          // `find` is given: B's is told from A's by its account.
          const expectOwn = (found: Payload | undefined) => {
            if (ownAlive) expect(found?.accountId).toBe('usr_b');
            else expect(found).toBeUndefined();
          };

          for (const op of ops) {
            switch (op) {
              case 'find':
                expect(await b.find(id)).toBeUndefined();
                break;
              case 'findByUid':
                expectOwn(await b.findByUid(aUid));
                break;
              case 'findByUserCode':
                expectOwn(await b.findByUserCode(saved.userCode as string));
                break;
              case 'consume':
                await expect(b.consume(id)).rejects.toBeInstanceOf(errors.InvalidGrant);
                break;
              case 'spendOwnTwice':
                if (ownAlive) await b.consume(own);
                // A replay revokes the whole grant it belongs to: B's rows of it, not A's.
                await expect(b.consume(own)).rejects.toBeInstanceOf(errors.InvalidGrant);
                ownAlive = false;
                break;
              case 'destroy':
                await b.destroy(id);
                break;
              case 'revokeByGrantId':
                await b.revokeByGrantId(aGrant);
                if (model !== 'Grant') ownAlive = false;
                expectOwn(await b.find(own));
                break;
              case 'upsert':
                await b.upsert(id, { kind: model, jti: id, grantId: 'grant-of-b', accountId: 'usr_b' }, 3600);
                expect(await b.find(id)).toBeUndefined();
                break;
            }
          }
          // A's artifact is as it was saved: present, unspent, unchanged, still found by uid.
          expect(await a.find(id)).toEqual(saved);
          const { jti: _value, ...named } = saved;
          expect(await a.findByUid(aUid)).toEqual(model === 'Grant' ? saved : named);
          const row = await db
            .selectFrom('oidc_payloads')
            .select(['tenant_id', 'consumed_at', 'grant_id'])
            .where('model', '=', model)
            .where('grant_id', '=', aGrant)
            .where('tenant_id', '=', tenantIds[0] as string)
            .execute();
          expect(row).toEqual([{ tenant_id: tenantIds[0], consumed_at: null, grant_id: aGrant }]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('still spends and revokes within one tenant (the check is not a blanket refusal)', async () => {
    const a = adapter(0, 'RefreshToken');
    await a.upsert('mine', { kind: 'RefreshToken', jti: 'mine', grantId: 'grant-mine' }, 3600);
    await a.consume('mine');
    expect((await a.find('mine'))?.consumed).toBeTypeOf('number');
    // Spending it again revokes the grant's rows.
    await expect(a.consume('mine')).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(await a.find('mine')).toBeUndefined();
    await a.upsert('other', { kind: 'RefreshToken', jti: 'other', grantId: 'grant-other' }, 3600);
    await a.revokeByGrantId('grant-other');
    expect(await a.find('other')).toBeUndefined();
  });
});
