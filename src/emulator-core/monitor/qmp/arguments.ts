// Argument checking for QMP commands, with QEMU's messages: "Parameter 'x' is missing",
// "Parameter 'x' is unexpected", "Invalid parameter type for 'x', expected: string".
import type { JsonValue } from './json-reader';
import { genericError } from './wire';

export type ArgType = 'str' | 'int' | 'number' | 'bool' | 'object' | 'any';

export interface ArgDef {
  type: ArgType | 'array';
  /** Element type when type is 'array'. */
  of?: ArgType;
  optional?: boolean;
  /** Allowed values of a 'str' (a QAPI enum): anything else is "Parameter 'x' does not accept value 'y'". */
  values?: readonly string[];
}

export type ArgSpec = Record<string, ArgDef>;

const expectedName: Record<ArgType | 'array', string> = {
  str: 'string',
  int: 'integer',
  number: 'number',
  bool: 'boolean',
  object: 'object',
  array: 'array',
  any: 'any',
};

function matches(value: JsonValue, type: ArgType | 'array'): boolean {
  switch (type) {
    case 'str': return typeof value === 'string';
    case 'int': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'bool': return typeof value === 'boolean';
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array': return Array.isArray(value);
    case 'any': return true;
  }
}

/** Returns the arguments unchanged if they fit `spec`; throws the QMP error QEMU would give. */
export function checkArguments(args: Record<string, JsonValue>, spec: ArgSpec = {}): Record<string, JsonValue> {
  for (const key of Object.keys(args)) {
    if (!(key in spec)) throw genericError(`Parameter '${key}' is unexpected`);
  }
  for (const [name, def] of Object.entries(spec)) {
    const value = args[name];
    if (value === undefined) {
      if (!def.optional) throw genericError(`Parameter '${name}' is missing`);
      continue;
    }
    if (!matches(value, def.type)) {
      throw genericError(`Invalid parameter type for '${name}', expected: ${expectedName[def.type]}`);
    }
    if (def.type === 'array' && def.of) {
      (value as JsonValue[]).forEach((el, i) => {
        if (!matches(el, def.of!)) {
          throw genericError(`Invalid parameter type for '${name}[${i}]', expected: ${expectedName[def.of!]}`);
        }
      });
    }
    if (def.values && !def.values.includes(value as string)) {
      throw genericError(`Parameter '${name}' does not accept value '${String(value)}'`);
    }
  }
  return args;
}
