import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

/**
 * The console is served by the server at /admin (assets under /admin/assets/, cached by hash).
 *
 * Development: `npm run dev -w packages/admin` serves the console on http://127.0.0.1:5173/admin/
 * and proxies the server's routes to LATCHKEY_DEV_SERVER (default http://127.0.0.1:3000). Start
 * that server with PUBLIC_URL=http://127.0.0.1:5173 so the issuer, redirect URIs and the admin
 * API all live on the dev server's origin (see README.md).
 */
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), 'LATCHKEY_');
  const target = env.LATCHKEY_DEV_SERVER ?? 'http://127.0.0.1:3000';
  const proxied = { target, changeOrigin: false, xfwd: true };
  return {
    base: '/admin/',
    plugins: [react()],
    server: {
      host: '127.0.0.1',
      port: 5173,
      strictPort: true,
      proxy: {
        '/admin/config.json': proxied,
        '/api': proxied,
        '/t/': proxied,
      },
    },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      target: 'es2022',
      // The budget is first-load JS under 300 kB gzipped; screens are lazy chunks.
      chunkSizeWarningLimit: 600,
      rolldownOptions: {
        output: {
          // Long-lived vendor chunks of what the first page needs (`$initial`): an app release
          // does not invalidate the browser's copy of React or Mantine. Library code only the lazy
          // screens use stays with them.
          codeSplitting: {
            groups: [
              {
                name: 'react',
                tags: ['$initial'],
                test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/,
              },
              { name: 'mantine', tags: ['$initial'], test: /node_modules[\\/](@mantine|@floating-ui)[\\/]/ },
              { name: 'query', tags: ['$initial'], test: /node_modules[\\/]@tanstack[\\/]/ },
              { name: 'oauth', tags: ['$initial'], test: /node_modules[\\/]oauth4webapi[\\/]/ },
            ],
          },
        },
      },
    },
  };
});
