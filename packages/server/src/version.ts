/** The server package's version (packages/server/package.json): `latchkey --version`, /healthz. */
import { createRequire } from 'node:module';

export const serverVersion: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
