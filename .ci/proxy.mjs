#!/usr/bin/env node
// A small switchable HTTP proxy for the deploy stage (.ci/deploy): listens on 127.0.0.1:<port>
// and sends each request to the next of its backends, round-robin; the backends are switched
// at run time through a control port on 127.0.0.1:
//   PUT  http://127.0.0.1:<control>/backends   body: "http://127.0.0.1:3001,http://127.0.0.1:3002"
//   GET  http://127.0.0.1:<control>/backends   the current list and how many requests each got
// A switch takes effect for the next request; requests under way finish where they started.
//   node .ci/proxy.mjs <port> <control port> <backend,…>
import http from 'node:http';

const [port, controlPort, initial] = process.argv.slice(2);
if (!port || !controlPort || !initial) {
  process.stderr.write('usage: node .ci/proxy.mjs <port> <control port> <backend,…>\n');
  process.exit(2);
}

function parseBackends(text) {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => new URL(s));
  if (list.length === 0) throw new Error('no backend');
  for (const u of list) {
    if (u.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
      throw new Error(`only http://127.0.0.1 backends: ${u.href}`);
    }
  }
  return list;
}

let backends = parseBackends(initial);
let next = 0;
const counts = new Map();
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const proxy = http.createServer((req, res) => {
  const target = backends[next++ % backends.length];
  counts.set(target.host, (counts.get(target.host) ?? 0) + 1);
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${target.host}: ${err.message}\n`);
    } else res.destroy();
  });
  req.pipe(upstream);
});

const control = http.createServer((req, res) => {
  if (req.url !== '/backends') {
    res.writeHead(404).end();
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ backends: backends.map((u) => u.host), requests: Object.fromEntries(counts) }));
    return;
  }
  if (req.method !== 'PUT') {
    res.writeHead(405).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    try {
      backends = parseBackends(body);
      next = 0;
      process.stdout.write(`proxy: now to ${backends.map((u) => u.host).join(', ')}\n`);
      res.writeHead(204).end();
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
    }
  });
});

proxy.listen(Number(port), '127.0.0.1');
control.listen(Number(controlPort), '127.0.0.1');
const stop = () => {
  proxy.close();
  control.close();
  agent.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
