/**
 * The fault test's load balancer: a small round-robin HTTP proxy in front of the Latchkey
 * nodes, as nginx or a cloud load balancer would be. It checks each node's /readyz every
 * 250 ms and routes only to nodes that answered 200; a request goes to another node only when
 * the connection to the first was refused (nothing was sent, so nothing can have happened).
 * Any other upstream failure is the client's 502: a request that may have arrived is never
 * sent twice. It sets X-Forwarded-For (the client's socket address appended) and
 * X-Forwarded-Proto, and names the node that answered in `X-Faults-Node`.
 *
 * Run alone: `node scripts/faults/proxy.mjs <port> <node-port>...`; run.mjs starts it as a
 * child process so that its event loop is not the load generator's.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const HEALTH_INTERVAL_MS = 250;
const UPSTREAM_TIMEOUT_MS = 30_000;
/** Hop-by-hop headers (RFC 9110 7.6.1): not forwarded. */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

export function startProxy({ port, nodePorts }) {
  const nodes = nodePorts.map((p, i) => ({
    name: `node${i + 1}`,
    port: p,
    healthy: false,
    // Idle sockets are closed after 4 s, well before the node's keep-alive timeout.
    agent: new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4000 }),
    routed: 0,
    refused: 0,
  }));
  const stats = { requests: 0, retried: 0, noHealthyNode: 0, upstreamErrors: {} };
  let next = 0;

  const check = (node) => {
    const req = http.get(
      { host: '127.0.0.1', port: node.port, path: '/readyz', agent: false, timeout: HEALTH_INTERVAL_MS * 4 },
      (res) => {
        res.resume();
        node.healthy = res.statusCode === 200;
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      node.healthy = false;
    });
  };
  const timer = setInterval(() => {
    for (const node of nodes) check(node);
  }, HEALTH_INTERVAL_MS);
  for (const node of nodes) check(node);

  /** The next healthy node after the last one picked, skipping `tried`. */
  const pick = (tried) => {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[(next + i) % nodes.length];
      if (node.healthy && !tried.has(node)) {
        next = (nodes.indexOf(node) + 1) % nodes.length;
        return node;
      }
    }
    return undefined;
  };

  const fail = (res, status, code, message, node) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    res.writeHead(status, node ? { ...headers, 'x-faults-node': node.name } : headers);
    res.end(JSON.stringify({ error: { code, message } }));
  };

  const forward = (req, res, body, tried) => {
    const node = pick(tried);
    if (!node) {
      stats.noHealthyNode++;
      return fail(res, 503, 'no_healthy_node', 'no node is ready');
    }
    tried.add(node);
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) if (!hopByHop.has(name)) headers[name] = value;
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for']
      ? `${req.headers['x-forwarded-for']}, ${client}`
      : client;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['content-length'] = String(body.length);
    const upstream = http.request({
      host: '127.0.0.1',
      port: node.port,
      method: req.method,
      path: req.url,
      headers,
      agent: node.agent,
      timeout: UPSTREAM_TIMEOUT_MS,
    });
    upstream.on('response', (up) => {
      node.routed++;
      const out = { 'x-faults-node': node.name };
      for (const [name, value] of Object.entries(up.headers)) if (!hopByHop.has(name)) out[name] = value;
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })));
    upstream.on('error', (err) => {
      const code = err.code ?? 'error';
      // Refused: the node is not listening (it died since the last check), nothing was sent.
      if (code === 'ECONNREFUSED') {
        node.healthy = false;
        node.refused++;
        stats.retried++;
        return forward(req, res, body, tried);
      }
      stats.upstreamErrors[code] = (stats.upstreamErrors[code] ?? 0) + 1;
      fail(res, 502, 'upstream_failed', `${node.name}: ${code}`, node);
    });
    upstream.end(body);
  };

  const server = http.createServer((req, res) => {
    if (req.url === '/__proxy/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const perNode = nodes.map(({ name, healthy, routed, refused }) => ({ name, healthy, routed, refused }));
      res.end(JSON.stringify({ ...stats, nodes: perNode }));
      return;
    }
    stats.requests++;
    // The body is read whole first, so that a refused connection can be retried elsewhere.
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), new Set()));
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        close: () => {
          clearInterval(timer);
          server.closeAllConnections();
          return new Promise((r) => server.close(r));
        },
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, ...nodePorts] = process.argv.slice(2).map(Number);
  if (!Number.isInteger(port) || nodePorts.length === 0 || nodePorts.some((p) => !Number.isInteger(p))) {
    process.stderr.write('usage: node scripts/faults/proxy.mjs <port> <node-port>...\n');
    process.exit(2);
  }
  const proxy = await startProxy({ port, nodePorts });
  process.stdout.write(`listening ${proxy.port}\n`);
  const stop = () => proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
