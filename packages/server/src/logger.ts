import { type Logger, pino } from 'pino';
import type { Config } from './config.js';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'latchkey' },
    redact: {
      paths: ['req.headers.authorization', 'password', '*.password', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}
