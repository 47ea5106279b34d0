/**
 * Which errors mean "a store cannot be reached right now" (answered 503 with Retry-After, the
 * sign-in page's "try again in a moment") rather than a fault of the code (500): the errors
 * pg and ioredis raise while PostgreSQL restarts or Redis is down, as the fault test
 * (`npm run faults`) saw them.
 */
import { describe, expect, it } from 'vitest';
import { isUnavailable } from '../src/http/errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const named = (message: string, name: string) => Object.assign(new Error(message), { name });

describe('isUnavailable', () => {
  it.each([
    ['PostgreSQL shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['PostgreSQL starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['connection reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['pg: terminated', new Error('Connection terminated unexpectedly')],
    ['pg: pool timeout', new Error('timeout exceeded when trying to connect')],
    [
      'ioredis: retries exhausted',
      named('Reached the max retries per request limit (which is 2).', 'MaxRetriesPerRequestError'),
    ],
    ['ioredis: closed', new Error('Connection is closed.')],
  ])('%s: unavailable', (_what, err) => {
    expect(isUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', withCode('duplicate key value violates unique constraint', '23505')],
    ['a syntax error (42601)', withCode('syntax error at or near', '42601')],
    ['a NUL byte refused (22021)', withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021')],
    ['SQLite busy', withCode('database is locked', 'SQLITE_BUSY')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error', 'ECONNREFUSED'],
  ])('%s: not unavailable', (_what, err) => {
    expect(isUnavailable(err)).toBe(false);
  });
});
