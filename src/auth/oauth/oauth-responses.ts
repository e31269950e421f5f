import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode, RegistryError } from '../../errors/registry-error.js';
import { clientFacingError } from '../../errors/storage-full.js';
import { sendJson } from '../../server/http.js';
import type { Handler } from '../../server/router.js';

/** Token responses and errors must never be cached (RFC 6749 §5.1). */
const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** Catalogue codes whose RFC 6749 / RFC 8628 name is the code in lower case. */
const oauthCodes = new Set<ErrorCode>([
  'INVALID_CLIENT',
  'INVALID_GRANT',
  'INVALID_SCOPE',
  'UNSUPPORTED_GRANT_TYPE',
  'UNSUPPORTED_RESPONSE_TYPE',
  'AUTHORIZATION_PENDING',
  'SLOW_DOWN',
  'EXPIRED_TOKEN',
  'ACCESS_DENIED',
]);

/** The RFC 6749 §5.2 `error` value a catalogue error is reported as. */
export function oauthErrorName(error: RegistryError): string {
  if (oauthCodes.has(error.code)) return error.code.toLowerCase();
  switch (error.code) {
    case 'INVALID_ARGUMENT':
    case 'SIZE_INVALID':
      return 'invalid_request';
    case 'TOOMANYREQUESTS':
      return 'temporarily_unavailable';
    case 'UNKNOWN':
      // A full disk (507) passes once space is freed; anything else is the server's fault.
      return error.status === 507 ? 'temporarily_unavailable' : 'server_error';
    case 'UNAUTHORIZED':
      return 'invalid_grant';
    default:
      return 'server_error';
  }
}

export function sendOAuthJson(res: ServerResponse, value: unknown, status = 200): void {
  sendJson(res, status, value, noStore);
}

/** `{"error","error_description"}` with the catalogue's status and headers (Retry-After). */
export function sendOAuthError(req: IncomingMessage, res: ServerResponse, error: RegistryError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...noStore, ...error.headers };
  if (!req.complete) headers.Connection = 'close';
  sendJson(res, error.status, { error: oauthErrorName(error), error_description: error.message }, headers);
}

/** Wraps a handler of an OAuth JSON endpoint, so that its errors take the OAuth shape. */
export function oauthEndpoint(handler: Handler): Handler {
  return async (context) => {
    try {
      await handler(context);
    } catch (error) {
      const known = clientFacingError(error);
      if (!known) throw error;
      sendOAuthError(context.req, context.res, known);
    }
  };
}
