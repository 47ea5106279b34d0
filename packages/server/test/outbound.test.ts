/**
 * The server's requests to admin-configured provider URLs (federation/outbound.ts): public
 * addresses only, unless the operator lists a private network (FEDERATION_PRIVATE_NETWORKS),
 * loopback with the dev flag, and PUBLIC_URL's own origin. Then through a running server: an
 * OpenID Connect provider whose issuer is on a private address is refused at the button at
 * once, with the "unavailable" page, and nothing connects there.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import {
  addressAllowed,
  assertReachable,
  type OutboundPolicy,
  OutboundRefused,
  outboundFetch,
  privateNetworksOf,
} from '../src/federation/outbound.js';
import { Browser } from './helpers/browser.js';
import { createProvider } from './helpers/federation.js';
import { authorizationRequest, discover } from './helpers/oidc.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const policy = (over: Partial<OutboundPolicy> = {}): OutboundPolicy => ({
  allowLoopback: false,
  privateNetworks: privateNetworksOf([]),
  ownOrigin: 'https://login.example.com',
  ...over,
});

describe('which addresses a provider may be on', () => {
  it.each([
    ['8.8.8.8', true],
    ['2606:4700:4700::1111', true],
    ['127.0.0.1', false],
    ['127.8.9.10', false],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['169.254.169.254', false], // cloud metadata services
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['fd12:3456::1', false],
    ['fe80::1', false],
    ['::ffff:127.0.0.1', false], // IPv4 written as IPv6
    ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
  ])('%s → %s', (address, allowed) => {
    expect(addressAllowed(address, policy())).toBe(allowed);
  });

  it('lets the operator allow a private network, and the dev flag loopback only', () => {
    const onPrem = policy({ privateNetworks: privateNetworksOf(['10.20.0.0/16', 'fd00::/8']) });
    expect(addressAllowed('10.20.3.4', onPrem)).toBe(true);
    expect(addressAllowed('10.21.3.4', onPrem)).toBe(false);
    expect(addressAllowed('fd00::5', onPrem)).toBe(true);
    expect(addressAllowed('127.0.0.1', onPrem)).toBe(false);
    const dev = policy({ allowLoopback: true });
    expect(addressAllowed('127.0.0.1', dev)).toBe(true);
    expect(addressAllowed('::1', dev)).toBe(true);
    expect(addressAllowed('10.0.0.1', dev)).toBe(false);
  });

  it('refuses a name that resolves to loopback, allows the own origin, and names the setting', async () => {
    await expect(assertReachable(new URL('https://localhost/x'), policy())).rejects.toThrow(OutboundRefused);
    await expect(assertReachable(new URL('https://[::1]:8443/x'), policy())).rejects.toThrow(
      /not a public address: set FEDERATION_PRIVATE_NETWORKS/,
    );
    await expect(
      assertReachable(new URL('http://127.0.0.1:3000/t/a'), policy({ ownOrigin: 'http://127.0.0.1:3000' })),
    ).resolves.toBeUndefined();
    await expect(assertReachable(new URL('https://no-such-host.invalid/'), policy())).rejects.toThrow(
      /does not resolve/,
    );
  });

  it('refuses before connecting: nothing reaches a server on a refused address', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      await expect(outboundFetch(policy())(url)).rejects.toThrow(OutboundRefused);
      expect(hits).toBe(0);
      expect((await outboundFetch(policy({ allowLoopback: true }))(url)).status).toBe(200);
      expect(hits).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses a FEDERATION_PRIVATE_NETWORKS that is not a list of CIDRs, naming it', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'intranet/8']) {
      expect(() => loadConfig({ FEDERATION_PRIVATE_NETWORKS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ FEDERATION_PRIVATE_NETWORKS: bad })).toThrow(/^FEDERATION_PRIVATE_NETWORKS: /);
    }
    expect(loadConfig({ FEDERATION_PRIVATE_NETWORKS: '10.0.0.0/8, fd00::/8' }).federation.privateNetworks).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
    ]);
  });
});

describe('a provider on a private address, through the server', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('is refused at the button at once ("unavailable"), without connecting', async () => {
    const { slug, api } = await tenantWithAdmin(ts);
    const client = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true },
    });
    const config = await discover(ts, slug, client.body);
    // 10.255.255.1 would hang until the timeout if anything tried to connect.
    await createProvider(api, slug, {
      kind: 'oidc',
      slug: 'intranet',
      displayName: 'Intranet',
      issuer: 'https://10.255.255.1/realms/corp',
      clientId: 'latchkey',
      clientSecret: 'a-secret-of-enough-length-0123456789',
    });
    const browser = new Browser();
    const request = await authorizationRequest(config, 'http://127.0.0.1:9/callback');
    const page = await browser.go(request.url, { stopAt: (u) => u.href.startsWith('http://127.0.0.1:9/') });
    const href = /href="([^"]*\/federated\/intranet)"/.exec(page.html)?.[1];
    const started = Date.now();
    const refused = await browser.go(new URL(String(href), page.url));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('cannot be reached right now');
  });
});
