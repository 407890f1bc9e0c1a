// QMP's wire shapes, written as QEMU 7.2 writes them: `{"return": ..., "id": ...}`,
// `{"id": ..., "error": {"class": ..., "desc": ...}}`, `{"timestamp": ..., "event": ..., "data": ...}`,
// with ": " and ", " separators, so that scripts which compare text (or parse loosely) see
// the same bytes from us as from QEMU.
import type { JsonValue } from './json-reader';

/** Error classes QEMU uses (qapi/error.json). */
export type QmpErrorClass =
  | 'GenericError'
  | 'CommandNotFound'
  | 'DeviceNotActive'
  | 'DeviceNotFound'
  | 'KVMMissingCap';

/** Thrown by a command handler: becomes `{"error": {"class", "desc"}}` on the wire. */
export class QmpError extends Error {
  constructor(
    readonly errorClass: QmpErrorClass,
    desc: string,
  ) {
    super(desc);
  }
}

export function genericError(desc: string): QmpError {
  return new QmpError('GenericError', desc);
}

export function serialize(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(serialize).join(', ')}]`;
  const parts = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}: ${serialize(v)}`);
  return `{${parts.join(', ')}}`;
}

export function returnMessage(value: JsonValue, id: JsonValue | undefined): string {
  return serialize(id === undefined ? { return: value } : { return: value, id });
}

export function errorMessage(err: QmpError, id: JsonValue | undefined): string {
  const error = { class: err.errorClass, desc: err.message };
  return serialize(id === undefined ? { error } : { id, error });
}

export function eventMessage(event: string, data: JsonValue | undefined, now = Date.now()): string {
  const timestamp = { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 };
  return serialize(data === undefined ? { timestamp, event } : { timestamp, event, data });
}
