/**
 * The one error catalogue. Every failure a client can see is a code listed here with its HTTP
 * status and default message; services throw `RegistryError`, one function renders it.
 */
export const errorCatalogue = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: {
    status: 404,
    message: 'manifest references a manifest or blob unknown to registry',
  },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository not found' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'access forbidden' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  TAG_INVALID: { status: 400, message: 'invalid tag' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  INVALID_ARGUMENT: { status: 400, message: 'invalid argument' },
  NOT_FOUND: { status: 404, message: 'not found' },
  ALREADY_EXISTS: { status: 409, message: 'already exists' },
  FAILED_PRECONDITION: { status: 409, message: 'the resource is not in a state that allows this' },
  // OAuth 2.0 (RFC 6749 §5.2, RFC 8628 §3.5): the OAuth endpoints render these as {"error": code in lower case}.
  INVALID_CLIENT: { status: 401, message: 'unknown client' },
  INVALID_GRANT: {
    status: 400,
    message: 'the grant is invalid, expired, revoked or was issued to another client',
  },
  INVALID_SCOPE: { status: 400, message: 'the requested scope is unknown or exceeds what was granted' },
  UNSUPPORTED_GRANT_TYPE: { status: 400, message: 'unsupported grant type' },
  UNSUPPORTED_RESPONSE_TYPE: { status: 400, message: 'unsupported response type' },
  AUTHORIZATION_PENDING: { status: 400, message: 'the user has not approved the request yet' },
  SLOW_DOWN: { status: 400, message: 'polling too fast' },
  EXPIRED_TOKEN: { status: 400, message: 'the device code has expired' },
  ACCESS_DENIED: { status: 400, message: 'the user denied the request' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface RegistryErrorOptions {
  /** Overrides the catalogue's status where the spec asks for another one (413, 416). */
  status?: number;
  detail?: unknown;
  headers?: Record<string, string>;
}

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, options: RegistryErrorOptions = {}) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'RegistryError';
    this.code = code;
    this.status = options.status ?? errorCatalogue[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/** The OCI error body: `{"errors":[{code,message,detail}]}`. */
export function errorBody(error: RegistryError): string {
  const entry: { code: string; message: string; detail?: unknown } = {
    code: error.code,
    message: error.message,
  };
  if (error.detail !== undefined) entry.detail = error.detail;
  return JSON.stringify({ errors: [entry] });
}
