/**
 * The admin API's documentation page at `/api/docs`: Swagger UI (`@fastify/swagger-ui`) under
 * the plugin's strict Content-Security-Policy (no inline scripts or styles), branded Latchkey.
 *
 * Swagger UI's own top bar draws its logo as an inline SVG holding a `<style>` element, which
 * that policy (rightly) refuses, and says "Swagger". So the page uses Swagger UI's base layout
 * (no top bar), and a small script and stylesheet of ours, served from the page's own origin as
 * the policy allows, put Latchkey's name and logo above it.
 */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';

/** Latchkey's mark, as the console's favicon draws it. */
const logo =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><title>Latchkey</title><rect width="32" height="32" rx="7" fill="#1f6feb"/><circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="3"/><path d="M17 16h10M23 16v5M27 16v4" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>';

const css = `.latchkey-topbar { display: flex; align-items: center; gap: 10px; padding: 12px 20px;
  background: #0f172a; color: #fff; font: 600 18px/1.2 system-ui, -apple-system, "Segoe UI", sans-serif; }
.latchkey-topbar img { width: 32px; height: 32px; }
.latchkey-topbar .latchkey-sub { font-weight: 400; opacity: 0.75; }
`;

// Runs as the page is parsed (after Swagger UI's scripts, before it renders on load): the
// header takes the logo from the page's icon link, so its URL follows the docs' prefix.
const js = `(function () {
  var icon = document.querySelector('link[rel="icon"]');
  var header = document.createElement('header');
  header.className = 'latchkey-topbar';
  var img = document.createElement('img');
  img.alt = 'Latchkey';
  if (icon) img.src = icon.href;
  var name = document.createElement('span');
  name.textContent = 'Latchkey';
  var sub = document.createElement('span');
  sub.className = 'latchkey-sub';
  sub.textContent = 'admin API';
  header.append(img, name, sub);
  document.body.insertBefore(header, document.body.firstChild);
})();
`;

/** Swagger UI at /api/docs; register after `@fastify/swagger`, whose document it shows. */
export const apiDocs: FastifyPluginAsync = async (app) => {
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { deepLinking: true, layout: 'BaseLayout' },
    staticCSP: true,
    theme: {
      title: 'Latchkey admin API',
      css: [{ filename: 'latchkey.css', content: css }],
      js: [{ filename: 'latchkey.js', content: js }],
      favicon: [{ filename: 'latchkey.svg', rel: 'icon', type: 'image/svg+xml', sizes: 'any', content: logo }],
    },
  });
};
