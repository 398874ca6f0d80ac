/**
 * Builds a value that is valid against a strict Structured Outputs JSON schema.
 *
 * The value is deterministic and, for free text, derived from the request input so that a
 * developer reading a local email can tell which conversation produced it. It never invents
 * contact details: nullable values are null, and strings whose key names a contact are empty.
 */

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  description?: string;
  default?: unknown;
};

export class SchemaError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} at ${path || '<root>'}`);
    this.name = 'SchemaError';
  }
}

const CONTACT_KEY = /(e-?mail|phone|tel|mobile|cell|address|contact)/i;

interface Ctx {
  root: JsonSchema;
  inputText: string;
  depth: number;
}

export function valueForSchema(schema: JsonSchema, inputText: string): unknown {
  return build(schema, { root: schema, inputText, depth: 0 }, '', '');
}

function resolveRef(ref: string, ctx: Ctx, path: string): JsonSchema {
  if (ref === '#') return ctx.root;
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  const target = m ? ctx.root[m[1] as '$defs' | 'definitions']?.[decodeURIComponent(m[2]!)] : undefined;
  if (!target) throw new SchemaError(`unresolvable $ref ${ref}`, path);
  return target;
}

function isNullSchema(s: JsonSchema): boolean {
  return s.type === 'null' || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null');
}

function allowsNull(s: JsonSchema): boolean {
  if (Array.isArray(s.type)) return s.type.includes('null');
  return s.type === 'null' || (s.anyOf ?? s.oneOf ?? []).some(isNullSchema);
}

function build(schema: JsonSchema, ctx: Ctx, key: string, path: string): unknown {
  if (ctx.depth > 32) throw new SchemaError('schema nests deeper than 32 levels', path);
  if (schema.$ref) return build(resolveRef(schema.$ref, ctx, path), { ...ctx, depth: ctx.depth + 1 }, key, path);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) {
    if (schema.enum.length === 0) throw new SchemaError('empty enum', path);
    return schema.enum[0];
  }
  if (allowsNull(schema)) return null; // never invent optional facts
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    const branch = union.find((s) => !isNullSchema(s));
    if (!branch) return null;
    return build(branch, { ...ctx, depth: ctx.depth + 1 }, key, path);
  }
  if (schema.allOf?.length) return build(Object.assign({}, ...schema.allOf), { ...ctx, depth: ctx.depth + 1 }, key, path);
  const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? (schema.properties ? 'object' : undefined));
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries(schema.properties ?? {})) {
        out[k] = build(sub, { ...ctx, depth: ctx.depth + 1 }, k, `${path}.${k}`);
      }
      return out;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const max = schema.maxItems ?? Number.POSITIVE_INFINITY;
      if (min > max) throw new SchemaError('minItems is greater than maxItems', path);
      if (schema.prefixItems) {
        return schema.prefixItems.map((s, i) => build(s, { ...ctx, depth: ctx.depth + 1 }, key, `${path}[${i}]`));
      }
      // One element by default, so lists show up in a rendered email; never fewer than minItems.
      const count = Math.min(max, Math.max(min, 1));
      const itemSchema = schema.items ?? { type: 'string' };
      return Array.from({ length: count }, (_, i) =>
        build(itemSchema, { ...ctx, depth: ctx.depth + 1 }, `${key} ${i + 1}`, `${path}[${i}]`),
      );
    }
    case 'string':
      return stringFor(schema, ctx, key);
    case 'integer':
    case 'number':
      return numberFor(schema, type === 'integer');
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      throw new SchemaError(`unsupported schema type ${JSON.stringify(schema.type)}`, path);
  }
}

function numberFor(schema: JsonSchema, integer: boolean): number {
  let lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : 0.001) : 0);
  const hi =
    schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (integer ? 1 : 0.001) : Number.POSITIVE_INFINITY);
  if (lo > hi) lo = hi;
  let n = integer ? Math.ceil(lo) : lo;
  if (schema.multipleOf) n = Math.ceil(n / schema.multipleOf) * schema.multipleOf;
  return n;
}

function stringFor(schema: JsonSchema, ctx: Ctx, key: string): string {
  if (schema.format === 'date-time') return '2026-01-01T00:00:00Z';
  if (schema.format === 'date') return '2026-01-01';
  if (schema.format === 'email' || schema.format === 'uri' || schema.pattern) {
    // A value we cannot derive safely: the smallest string the schema allows, when that is empty.
    return ''.padEnd(schema.minLength ?? 0, 'x');
  }
  let s: string;
  if (CONTACT_KEY.test(key)) s = '';
  else {
    const label = key.replace(/_/g, ' ').trim() || 'text';
    const excerpt = ctx.inputText.replace(/\s+/g, ' ').trim().slice(0, 120);
    s = excerpt ? `${label}: ${excerpt}` : label;
  }
  if (schema.maxLength !== undefined) s = s.slice(0, schema.maxLength);
  if (schema.minLength !== undefined && s.length < schema.minLength) s = s.padEnd(schema.minLength, '.');
  return s;
}
