// Schema-based validation (JSON Schema via TypeBox, checked by ajv), used for
// HTTP bodies, query strings and declarative files. Errors name the field.
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';

// ajv-formats is CommonJS: under NodeNext the default import is its module
// object, typed with `default` as the plugin, and the module sets
// `exports.default` to the plugin itself, so `.default` is right both ways.
const addFormats = addFormatsModule.default;

const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, strict: false });
addFormats(ajv);

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** One problem as a sentence naming the field, e.g. "body.variants.0.sku is required". */
export function describeError(error: ErrorObject, root: string): string {
  const where = [root, ...error.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.');
  const at = (name: unknown) => [where, String(name)].filter(Boolean).join('.');
  switch (error.keyword) {
    case 'required':
      return `${at(error.params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${at(error.params.additionalProperty)} is not allowed`;
    default:
      return `${where || 'value'} ${error.message ?? 'is invalid'}`;
  }
}

/** A validator for a schema; `root` names the value in messages (body, query, path). */
export function compileValidator<S extends TSchema>(schema: S, root = ''): (value: unknown) => Validation<Static<S>> {
  const validate = ajv.compile(schema);
  return (value) => {
    if (validate(value)) return { ok: true, value: value as Static<S> };
    return { ok: false, errors: (validate.errors ?? []).map((e) => describeError(e, root)) };
  };
}
