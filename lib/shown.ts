/** How a value the caller passed is shown in an error message: never throws, whatever the value is. */

/**
 * The value as JSON where JSON can hold it (`"abc"`, `12`, `{"a":1}`), else a short description
 * (`12n`, `Symbol(x)`, `a function`, `NaN`, `an object (Map)`): BigInt, cyclic objects and throwing
 * `toJSON` methods must not turn a clear `INVALID_OPTIONS` into a `TypeError`.
 */
export function shown(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Cyclic, or holds a BigInt, or a toJSON that throws: describe it instead.
  }
  return objectKind(value);
}

/** `an object (Map)`: the constructor's name when it has a usable one, whatever the object holds. */
export function objectKind(value: unknown): string {
  let name: unknown;
  try {
    name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  } catch {
    name = undefined;
  }
  return `an object (${typeof name === 'string' && name !== '' ? name : 'no constructor'})`;
}
