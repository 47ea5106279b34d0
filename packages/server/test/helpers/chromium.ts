/**
 * Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core
 * (no downloaded browsers), plus a tiny local HTTP server to act as an app's redirect URI.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** Whether the browser is installed (CI installs it in .ci/run; locally: apt-get install chromium). */
export const hasChromium = existsSync(chromiumPath);

export const skipMessage = `${chromiumPath} is not installed: browser tests skipped (apt-get install -y chromium; CI installs it via .ci/run)`;

/** Launches headless Chromium with a fresh temporary profile, quiet and offline-friendly. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** Where screenshots go: test-results/screenshots at the repository root (git-ignored). */
export function screenshotPath(name: string): string {
  const dir = fileURLToPath(new URL('../../../../test-results/screenshots/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return `${dir}${name}`;
}

export interface CallbackServer {
  /** Base URL, like http://127.0.0.1:40123 */
  url: string;
  /** URLs of the requests received so far (path and query). */
  requests: string[];
  close(): Promise<void>;
}

/** An app's redirect URI: answers every request with a small 200 page and records it. */
export async function startCallbackServer(): Promise<CallbackServer> {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests.push(req.url ?? '/');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><title>Signed in</title><p>Back at the app.</p>');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
