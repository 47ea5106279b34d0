/**
 * The `latchkey` kind: another tenant of this Latchkey as a tenant's OpenID Connect provider.
 * Latchkey registers the client in that tenant itself, through the clients service, so the
 * one grant rule decides: the client is first-party (the upstream tenant's users are not asked
 * for consent, as for any of its own applications), which needs tenant-wide reach there. A
 * caller who cannot see that tenant is refused with 403 whether or not it exists.
 *
 * The client's one redirect URI is the provider's callback, its secret is sealed in the
 * provider's row like any client secret, and the issuer is `{PUBLIC_URL}/t/{tenant}`; the
 * sign-in is then the OpenID Connect path of every other kind (discovery over HTTP to
 * PUBLIC_URL). Deleting the provider deletes the client.
 */
import type { AuditActor } from '../../audit/service.js';
import { can, canSeeTenant, type Principal } from '../../auth/permissions.js';
import type { ClientService } from '../../clients/service.js';
import { AppError, forbidden } from '../../http/errors.js';
import type { Change } from '../../notices.js';
import type { Tenant, TenantService } from '../../tenants/service.js';
import { callbackPath } from '../flow-cookie.js';
import { invalidField } from './settings.js';

/** The client registered in the upstream tenant. */
export interface RegisteredClient {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export class LatchkeyTenantClients {
  constructor(
    private readonly clients: ClientService,
    private readonly tenants: TenantService,
    private readonly publicUrl: string,
    private readonly changed: (change: Change) => void,
  ) {}

  issuerOf(slug: string): string {
    return `${this.publicUrl}/t/${slug}`;
  }

  private redirectUri(downstream: Tenant, idpSlug: string): string {
    return `${this.publicUrl}${callbackPath(downstream.slug, idpSlug)}`;
  }

  /** The upstream tenant, if the caller may register clients there (else 403, or 400 for none or itself). */
  private async upstream(principal: Principal, downstream: Tenant, slug: string): Promise<Tenant> {
    const refused = () =>
      forbidden(`A latchkey provider needs the clients:write permission in tenant "${slug}"`, {
        permission: 'clients:write',
        tenant: slug,
      });
    const tenant = await this.tenants.findBySlug(slug);
    // Who cannot see it learns nothing of whether it exists.
    if (!tenant) throw principal.systemAdmin ? invalidField('/tenant', `there is no tenant "${slug}"`) : refused();
    if (!canSeeTenant(principal, tenant.id) || !can(principal, tenant.id, 'clients:write')) throw refused();
    if (tenant.id === downstream.id) throw invalidField('/tenant', 'must be another tenant than this one');
    return tenant;
  }

  /** Registers the provider's client in tenant `slug` (the grant rule there), before the provider is saved. */
  async register(
    principal: Principal,
    actor: AuditActor,
    downstream: Tenant,
    idpSlug: string,
    slug: string,
  ): Promise<RegisteredClient> {
    const upstream = await this.upstream(principal, downstream, slug);
    const created = await this.clients.create(
      upstream,
      {
        kind: 'web',
        name: `Sign-in to tenant ${downstream.slug} (${idpSlug})`.slice(0, 200),
        redirectUris: [this.redirectUri(downstream, idpSlug)],
        scopes: ['openid', 'email', 'profile'],
        firstParty: true,
        tokenEndpointAuthMethod: 'client_secret_basic',
      },
      principal,
      actor,
    );
    this.changed({ slug: upstream.slug, tenantId: upstream.id, oidc: true });
    if (!created.clientSecret) throw new Error('a web client without a secret');
    return { issuer: this.issuerOf(upstream.slug), clientId: created.clientId, clientSecret: created.clientSecret };
  }

  /** Points the client at the provider's callback under its new slug (the grant rule there). */
  async renamed(
    principal: Principal,
    actor: AuditActor,
    downstream: Tenant,
    upstreamSlug: string,
    clientId: string,
    idpSlug: string,
  ): Promise<void> {
    const upstream = await this.upstream(principal, downstream, upstreamSlug);
    await this.clients.update(
      upstream,
      clientId,
      { redirectUris: [this.redirectUri(downstream, idpSlug)] },
      undefined,
      principal,
      actor,
    );
    this.changed({ slug: upstream.slug, tenantId: upstream.id, oidc: true });
  }

  /**
   * Deletes the provider's client (the provider is gone, or its saving failed). One deleted
   * meanwhile by the upstream tenant's admins, or a tenant gone, is nothing left to do.
   */
  async remove(actor: AuditActor, upstreamSlug: string, clientId: string): Promise<void> {
    const upstream = await this.tenants.findBySlug(upstreamSlug);
    if (!upstream) return;
    try {
      await this.clients.delete(upstream, clientId, undefined, actor);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return;
      throw err;
    }
    this.changed({ slug: upstream.slug, tenantId: upstream.id, oidc: true });
  }
}
