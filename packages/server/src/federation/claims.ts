/**
 * The `idp` claim of ID tokens from a federated sign-in (amr `fed`): the slug of the provider
 * the user last signed in with. A session's own provider is not kept by oidc-provider (its
 * login result holds only the account, amr and acr), so this is the identity with the latest
 * sign-in time: the session's, unless the same user signed in through another provider since.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

export async function federatedProvider(db: Kysely<DB>, tenantId: string, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('user_identities')
    .innerJoin('identity_providers', 'identity_providers.id', 'user_identities.provider_id')
    .select(['identity_providers.slug', 'user_identities.tenant_id'])
    .where('user_identities.user_id', '=', userId)
    .where('user_identities.last_sign_in_at', 'is not', null)
    .orderBy('user_identities.last_sign_in_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.tenant_id === tenantId ? row.slug : undefined;
}
