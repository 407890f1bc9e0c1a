// Errors a person can act on. Services throw these; the transports turn them into ApiError
// replies. Anything else is a bug and reaches the renderer as a generic "internal error".
import type { ApiError } from '../../shared/api';

export class UserError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }

  toApiError(): ApiError {
    return { message: this.message, code: this.code, ...(this.field ? { field: this.field } : {}) };
  }
}
