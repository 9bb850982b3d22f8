// react-jsonschema-form's validator on @cfworker/json-schema: it interprets the schema
// instead of compiling it to code, so that the page's Content-Security-Policy needs no
// 'unsafe-eval' (AJV, rjsf's default, compiles with `new Function`).

import { Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";
import {
  ErrorSchemaBuilder,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from "@rjsf/utils";

const DRAFT = "2020-12";
/** Keywords that only say a sub-schema failed; the failing keyword is reported too. */
const WRAPPERS = new Set(["properties", "items", "prefixItems", "allOf", "anyOf", "oneOf", "$ref", "additionalProperties", "dependentSchemas", "if", "then", "else"]);

/** The data as JSON would carry it: keys whose value is undefined are left out. */
function plain(data: unknown): unknown {
  return data === undefined ? undefined : JSON.parse(JSON.stringify(data));
}

function unescapePointer(part: string): string {
  return decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
}

function pointerParts(pointer: string): string[] {
  return pointer.replace(/^#\/?/, "").split("/").filter((p) => p !== "").map(unescapePointer);
}

function at(root: unknown, parts: string[]): unknown {
  let node = root;
  for (const part of parts) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** One output unit as rjsf's error: name (the keyword), property (".a.b"), params. */
export function toRjsfError(unit: OutputUnit, schema: unknown): RJSFValidationError {
  const path = pointerParts(unit.instanceLocation);
  const value = at(schema, pointerParts(unit.keywordLocation));
  const params: Record<string, unknown> = {};
  switch (unit.keyword) {
    case "required": {
      const missing = /"([^"]+)"/.exec(unit.error)?.[1] ?? "";
      params.missingProperty = missing;
      path.push(missing);
      break;
    }
    case "type":
      params.type = Array.isArray(value) ? value.join(",") : value;
      break;
    case "format":
      params.format = value;
      break;
    case "pattern":
      params.pattern = value;
      break;
    default:
      params.limit = value;
  }
  const property = path.length ? `.${path.join(".")}` : "";
  return {
    name: unit.keyword,
    property,
    message: unit.error,
    params,
    stack: `${property || "."} ${unit.error}`.trim(),
    schemaPath: unit.keywordLocation,
  };
}

class InterpretingValidator implements ValidatorType {
  private cache = new Map<string, Validator>();

  private validatorFor(schema: RJSFSchema): Validator {
    const key = JSON.stringify(schema);
    let validator = this.cache.get(key);
    if (!validator) {
      validator = new Validator(schema as Schema, DRAFT, false);
      this.cache.set(key, validator);
    }
    return validator;
  }

  private errors(schema: RJSFSchema, formData: unknown): RJSFValidationError[] {
    const result = this.validatorFor(schema).validate(formData === undefined ? {} : plain(formData));
    return result.errors.filter((unit) => !WRAPPERS.has(unit.keyword)).map((unit) => toRjsfError(unit, schema));
  }

  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator,
    transformErrors?: ErrorTransformer,
    uiSchema?: UiSchema,
  ): ValidationData<unknown> {
    let errors = this.errors(schema, formData);
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const builder = new ErrorSchemaBuilder();
    for (const error of errors) {
      const path = (error.property || "").replace(/^\./, "");
      builder.addErrors(error.message || "", path ? path.split(".") : undefined);
    }
    return { errors, errorSchema: builder.ErrorSchema };
  }

  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    try {
      const full = { ...schema, $defs: rootSchema.$defs, definitions: rootSchema.definitions } as RJSFSchema;
      return this.validatorFor(full).validate(plain(formData) ?? null).valid;
    } catch {
      return false;
    }
  }

  rawValidation<Result = unknown>(schema: RJSFSchema, formData?: unknown): { errors?: Result[]; validationError?: Error } {
    try {
      return { errors: this.validatorFor(schema).validate(plain(formData) ?? null).errors as unknown as Result[] };
    } catch (error) {
      return { validationError: error as Error };
    }
  }

  reset(): void {
    this.cache.clear();
  }
}

export const validator = new InterpretingValidator();
