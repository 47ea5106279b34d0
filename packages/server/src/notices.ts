/**
 * Change notices between nodes. A node drops its own cached copies (tenants, clients, API
 * keys and token verdicts, a tenant's OIDC provider) at once when a change goes through it;
 * with Redis configured it also tells every other node, which drops the same copies when the
 * notice arrives, instead of serving them until they expire (CACHE_TTL_SECONDS). Without
 * Redis, notices stay on this node.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

const CHANNEL = 'latchkey:changes';

/**
 * What changed: something of the tenant with this slug and id (or of the instance when
 * neither is given); `oidc` when it was the tenant itself, its clients, keys or APIs, which
 * its OpenID provider is built from.
 */
export interface Change {
  slug?: string;
  tenantId?: string;
  oidc?: boolean;
}

export class ChangeNotices {
  private readonly node = randomUUID();
  private subscriber: Redis | undefined;

  constructor(
    /** Drops what `change` makes stale, on this node. */
    private readonly apply: (change: Change) => void,
    private readonly log: Logger,
    private readonly redis?: Redis,
  ) {}

  /** Starts listening to the other nodes (with Redis). */
  async start(): Promise<void> {
    if (!this.redis) return;
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (err) => this.log.warn({ err }, 'redis error (change notices)'));
    subscriber.on('message', (_channel: string, message: string) => {
      let notice: { node?: unknown; change?: Change };
      try {
        notice = JSON.parse(message);
      } catch {
        return;
      }
      if (notice.node === this.node || typeof notice.change !== 'object' || notice.change === null) return;
      const { slug, tenantId, oidc } = notice.change;
      this.apply({
        slug: typeof slug === 'string' ? slug : undefined,
        tenantId: typeof tenantId === 'string' ? tenantId : undefined,
        oidc: oidc === true,
      });
    });
    await subscriber.subscribe(CHANNEL);
  }

  /** A change went through this node: drop stale copies here, and tell the other nodes. */
  changed(change: Change): void {
    this.apply(change);
    if (!this.redis) return;
    this.redis
      .publish(CHANNEL, JSON.stringify({ node: this.node, change }))
      .catch((err: unknown) => this.log.warn({ err }, 'could not publish a change notice'));
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
