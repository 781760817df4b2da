// Errors as the HTTP API reports them: a status and a JSON body
// `{error: CODE, message, ...details}`.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', `${what} was not found`);
export const badRequest = (message: string, details: Record<string, unknown> = {}) => new HttpError(400, 'VALIDATION_FAILED', message, details);
export const conflict = (code: string, message: string, details: Record<string, unknown> = {}) => new HttpError(409, code, message, details);
