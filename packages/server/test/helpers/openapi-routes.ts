/**
 * The admin API's routes, from the committed OpenAPI document, for tests that walk every
 * documented route (a new route is covered without edits to them), plus what those tests
 * need to call a route: a filled-in path and a minimal body from its schema.
 */
import { readFileSync } from 'node:fs';
import { idPrefixes } from '../../src/ids.js';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  format?: string;
  pattern?: string;
}

interface OpenApiOperation {
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  parameters?: { name: string; in: string; schema?: JsonSchema }[];
}

export interface DocumentedRoute {
  method: string;
  template: string;
  bodySchema: JsonSchema | undefined;
  pathParams: Record<string, JsonSchema | undefined>;
  queryParams: Record<string, JsonSchema | undefined>;
}

const openapi = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
};
const httpMethods = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** Every operation in packages/server/openapi.json. */
export const documentedRoutes: DocumentedRoute[] = Object.entries(openapi.paths).flatMap(([template, operations]) =>
  Object.entries(operations)
    .filter(([method]) => httpMethods.has(method))
    .map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      bodySchema: op.requestBody?.content?.['application/json']?.schema,
      pathParams: Object.fromEntries(
        (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.schema]),
      ),
      queryParams: Object.fromEntries(
        (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema]),
      ),
    })),
);

/** `METHOD /path/{template}`. */
export const routeKey = (r: { method: string; template: string }) => `${r.method} ${r.template}`;

/** The slug, and real ids by the collection they are in (`users`, `api-keys`, `roles`...). */
export interface PathValues {
  slug: string;
  ids: Record<string, string>;
}

/**
 * Fills a path template. A parameter of a collection `values` has no id for gets a
 * well-formed id that names nothing (from the documented pattern: `cli_000…`), so that the
 * request passes parameter validation and reaches the authorization checks.
 */
export function fillPath(route: DocumentedRoute, v: PathValues): string {
  return route.template.replace(/\{(\w+)\}/g, (_match, name: string, offset: number) => {
    if (name === 'slug') return v.slug;
    const collection = route.template.slice(0, offset).split('/').at(-2) ?? '';
    const known = v.ids[collection];
    if (known !== undefined) return encodeURIComponent(known);
    const prefix = /^\^([a-z]+)_/.exec(route.pathParams[name]?.pattern ?? '')?.[1] ?? idPrefixOf(collection);
    return prefix ? `${prefix}_${'0'.repeat(26)}` : 'no-such-thing';
  });
}

/** The id prefix of a collection's items, from its name: `api-keys` → `apiKey` → `key`. */
function idPrefixOf(collection: string): string | undefined {
  const kind = collection.replace(/s$/, '').replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
  return Object.hasOwn(idPrefixes, kind) ? idPrefixes[kind as keyof typeof idPrefixes] : undefined;
}

function resolveRef(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.split('/').at(-1) ?? '';
  return resolveRef(openapi.components?.schemas?.[name] ?? {});
}

/** A minimal body from a JSON schema: required fields only, simplest values. Best effort. */
export function sampleFromSchema(raw: JsonSchema | undefined): unknown {
  if (!raw) return undefined;
  const schema = resolveRef(raw);
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const alternative = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema.allOf?.[0];
  if (alternative) return sampleFromSchema(alternative);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries((schema.required ?? []).map((k) => [k, sampleFromSchema(schema.properties?.[k])]));
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sampleFromSchema(schema.items));
    case 'string':
      if (schema.format === 'email') return 'someone@example.test';
      if (schema.format === 'uri') return 'https://example.test/';
      if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** Whether a schema (or one of its alternatives) takes a string. */
export function takesString(raw: JsonSchema | undefined): boolean {
  if (!raw) return false;
  const schema = resolveRef(raw);
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  if (alternatives.some(takesString)) return true;
  return schema.type === 'string' || (Array.isArray(schema.type) && schema.type.includes('string'));
}

/**
 * Every place in a body schema that holds text, as paths of keys (`'0'` for an array's
 * items, `'*'` for a record's values, `'*key'` for a record's keys): what a test fills
 * with hostile text, one place at a time. Nested objects are followed a few levels down.
 */
export function stringFields(raw: JsonSchema | undefined, depth = 0): string[][] {
  if (!raw || depth > 4) return [];
  const schema = resolveRef(raw);
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  if (alternatives.length > 0) {
    const seen = new Set<string>();
    return alternatives
      .flatMap((a) => stringFields(a, depth))
      .filter((p) => !seen.has(p.join('/')) && seen.add(p.join('/')) !== undefined);
  }
  if (takesString(schema)) return [[]];
  if (schema.items) return stringFields(schema.items, depth + 1).map((p) => ['0', ...p]);
  const fields = Object.entries(schema.properties ?? {}).flatMap(([k, v]) =>
    stringFields(v, depth + 1).map((p) => [k, ...p]),
  );
  if (typeof schema.additionalProperties === 'object') {
    fields.push(['*key']);
    const values = stringFields(schema.additionalProperties, depth + 1);
    fields.push(...(values.length > 0 ? values : [[]]).map((p) => ['*', ...p]));
  }
  return fields;
}
