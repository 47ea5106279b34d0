/**
 * One line of a user import (JSON lines): what it may hold, read as strictly as an admin-API
 * body (UTF-8, bounded shape, no duplicate keys, no control characters, the same field rules
 * as creating a user), and normalised to what the worker applies (`ImportedUser`). A line
 * that breaks a rule is reported by number with a stable code, never a crash of the job.
 */
import { z } from 'zod';
import { idpSlugSchema } from '../federation/schemas.js';
import { AppError } from '../http/errors.js';
import { checkJsonShape, decodeUtf8 } from '../http/json.js';
import { findUnsafeText } from '../http/text.js';
import { parseImportedHash } from '../passwords/imported.js';
import { attributesSchema, displayNameSchema, emailSchema, userIdSchema } from '../users/service.js';

/** The longest line accepted, in bytes. */
export const MAX_LINE_BYTES = 65_536;
/** Roles one imported user may hold. */
const MAX_ROLES = 50;
/** Identities of other providers one imported user may bring. */
const MAX_IDENTITIES = 20;

const roleNameSchema = z.string().min(1).max(100);

/** An import line as written (export writes the same shape). */
export const importLineSchema = z
  .strictObject({
    id: userIdSchema.optional().describe('Keep this id (usr_…); new otherwise'),
    email: emailSchema,
    emailVerified: z.boolean().default(false),
    displayName: displayNameSchema.optional(),
    status: z.enum(['active', 'disabled']).default('active'),
    attributes: attributesSchema.default({}),
    roles: z.array(roleNameSchema).max(MAX_ROLES).default([]),
    identities: z
      .array(
        z.strictObject({
          provider: idpSlugSchema.describe("The slug of one of the tenant's identity providers"),
          subject: z.string().min(1).max(255).describe('The upstream subject (`sub`, the SAML NameID, the GitHub id)'),
          email: emailSchema.optional(),
        }),
      )
      .max(MAX_IDENTITIES)
      .default([])
      .describe("Ways to sign in through the tenant's identity providers, linked to the new user"),
    passwordHash: z
      .unknown()
      .optional()
      .describe('A hash in one of the formats of docs/import-formats.md (bcrypt, argon2, PBKDF2, scrypt, …)'),
  })
  .meta({ id: 'UserImportLine' });

/** A line as the worker applies it. */
export interface ImportedUser {
  id?: string | undefined;
  email: string;
  emailVerified: boolean;
  displayName: string | null;
  status: 'active' | 'disabled';
  attributes: Record<string, unknown>;
  roles: string[];
  /** Absent on lines spooled before identities could be imported. */
  identities?: ImportedIdentity[];
  passwordHash: string | null;
}

/** An identity at another provider, by the provider's slug. */
export interface ImportedIdentity {
  provider: string;
  subject: string;
  email: string | null;
}

/** Why a line was not imported. */
export interface LineFailure {
  line: number;
  code: string;
  message: string;
}

/** Reads one line (its bytes, without the line feed): the user, or why not. */
export function readLine(bytes: Buffer, line: number): ImportedUser | LineFailure {
  const fail = (code: string, message: string): LineFailure => ({ line, code, message });
  if (bytes.length > MAX_LINE_BYTES) return fail('line_too_long', `Lines may have at most ${MAX_LINE_BYTES} bytes`);
  let value: unknown;
  try {
    const text = decodeUtf8(bytes);
    checkJsonShape(text);
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof AppError) return fail(err.code, err.message);
    return fail('invalid_json', 'The line is not JSON');
  }
  const unsafe = findUnsafeText(value);
  if (unsafe !== undefined) {
    return fail(
      'invalid_text',
      `${unsafe} holds a control character or an unpaired surrogate, which text may not hold`,
    );
  }
  const parsed = importLineSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? `/${issue.path.join('/')}` : '/';
    return fail('validation_failed', `${path} ${issue?.message ?? 'is invalid'}`);
  }
  const data = parsed.data;
  let passwordHash: string | null = null;
  if (data.passwordHash !== undefined && data.passwordHash !== null) {
    const hash = parseImportedHash(data.passwordHash);
    if ('error' in hash) return fail(hash.error, hash.message);
    passwordHash = hash.stored;
  }
  return {
    ...(data.id === undefined ? {} : { id: data.id }),
    email: data.email,
    emailVerified: data.emailVerified,
    displayName: data.displayName ?? null,
    status: data.status,
    attributes: data.attributes as Record<string, unknown>,
    roles: [...new Set(data.roles)],
    identities: [...new Map(data.identities.map((i) => [`${i.provider}\n${i.subject}`, i])).values()].map((i) => ({
      provider: i.provider,
      subject: i.subject,
      email: i.email ?? null,
    })),
    passwordHash,
  };
}

/**
 * Splits a byte stream into lines (LF, with an optional CR before it), each with its number
 * from 1; an empty line counts but yields nothing. A line past `MAX_LINE_BYTES` is yielded
 * cut at that length plus one byte, so that it is reported rather than buffered whole.
 */
export async function* linesOf(stream: AsyncIterable<Buffer>): AsyncGenerator<[Buffer, number]> {
  let line = 1;
  let parts: Buffer[] = [];
  let size = 0;
  let overlong = false;
  const take = (chunk: Buffer) => {
    if (overlong) return;
    if (size + chunk.length > MAX_LINE_BYTES) {
      parts.push(chunk.subarray(0, MAX_LINE_BYTES + 1 - size));
      size = MAX_LINE_BYTES + 1;
      overlong = true;
      return;
    }
    parts.push(chunk);
    size += chunk.length;
  };
  const finish = (): Buffer => {
    let out = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
    if (!overlong && out.length > 0 && out[out.length - 1] === 0x0d) out = out.subarray(0, out.length - 1);
    parts = [];
    size = 0;
    overlong = false;
    return out;
  };
  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, nl));
      const bytes = finish();
      if (bytes.length > 0) yield [bytes, line];
      line++;
      start = nl + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  const last = finish();
  if (last.length > 0) yield [last, line];
}
