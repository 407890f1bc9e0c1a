// A failed API call as the renderer sees it: the service's message, and the form field it is about.
import type { ApiError } from '../../shared/api';

export class ApiCallError extends Error {
  readonly code: string;
  readonly field: string | undefined;

  constructor(error: ApiError) {
    super(error.message);
    this.name = 'ApiCallError';
    this.code = error.code;
    this.field = error.field;
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
