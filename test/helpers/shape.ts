// Checks a JSON value against a template, as the compatibility suites' `expect.any(...)` does:
// String, Number, Boolean, Array or Object stand for any value of that type; a plain object or
// array is checked key by key (the same keys, no more, no fewer); anything else must be equal.
import assert from 'node:assert/strict';

export type Template = StringConstructor | NumberConstructor | BooleanConstructor | ArrayConstructor | ObjectConstructor | null | string | number | boolean | Template[] | { [key: string]: Template };

export function assertShape(actual: unknown, template: Template, path = '$'): void {
  if (template === String) return assert.equal(typeof actual, 'string', `${path} should be a string: ${JSON.stringify(actual)}`);
  if (template === Number) return assert.equal(typeof actual, 'number', `${path} should be a number: ${JSON.stringify(actual)}`);
  if (template === Boolean) return assert.equal(typeof actual, 'boolean', `${path} should be a boolean: ${JSON.stringify(actual)}`);
  if (template === Array) return assert.ok(Array.isArray(actual), `${path} should be an array: ${JSON.stringify(actual)}`);
  if (template === Object) return assert.ok(actual !== null && typeof actual === 'object', `${path} should be an object: ${JSON.stringify(actual)}`);
  if (Array.isArray(template)) {
    assert.ok(Array.isArray(actual), `${path} should be an array: ${JSON.stringify(actual)}`);
    assert.equal(actual.length, template.length, `${path} should have ${template.length} items: ${JSON.stringify(actual)}`);
    template.forEach((t, i) => assertShape(actual[i], t, `${path}[${i}]`));
    return;
  }
  if (template !== null && typeof template === 'object') {
    assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${path} should be an object: ${JSON.stringify(actual)}`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(template).sort(), `${path} keys`);
    for (const [k, t] of Object.entries(template)) assertShape((actual as Record<string, unknown>)[k], t, `${path}.${k}`);
    return;
  }
  assert.deepEqual(actual, template, path);
}
