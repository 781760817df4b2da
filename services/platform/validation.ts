// Schema-based validation (JSON Schema via TypeBox, checked by ajv), used for
// HTTP bodies, query strings and declarative files. Errors name the field.
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';

// ajv-formats is CommonJS with a default export; under NodeNext its types describe the module object.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as AddFormats;

const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, strict: false });
addFormats(ajv);

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export function describeError(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : '';
  switch (error.keyword) {
    case 'required':
      return `${where ? `${where}.` : ''}${String(error.params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${where ? `${where}.` : ''}${String(error.params.additionalProperty)} is not allowed`;
    default:
      return `${where || 'body'} ${error.message ?? 'is invalid'}`;
  }
}

export function compileValidator<S extends TSchema>(schema: S): (value: unknown) => Validation<Static<S>> {
  const validate = ajv.compile(schema);
  return (value) => {
    if (validate(value)) return { ok: true, value: value as Static<S> };
    return { ok: false, errors: (validate.errors ?? []).map(describeError) };
  };
}
