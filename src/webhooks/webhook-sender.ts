import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { type TargetGuard, TargetRefused } from './target-guard.js';

/** How much of a receiver's answer is kept, for the delivery record: enough to read an error. */
export const responsePrefixBytes = 1024;

export interface WebhookRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The whole exchange (connect, send, first response bytes) must finish within this. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export type WebhookResponse =
  | { readonly kind: 'answered'; readonly statusCode: number; readonly responsePrefix: string }
  /** The guard refused the target: permanent. */
  | { readonly kind: 'refused'; readonly error: string }
  /** No answer: a connection error, a timeout, or shutdown (`aborted`). */
  | { readonly kind: 'failed'; readonly error: string; readonly aborted: boolean };

/**
 * A lookup for the connection itself: the name is resolved once and the address connected to is
 * the one the guard checked, so a name that resolves to a private address at delivery time (DNS
 * rebinding) is refused even though it passed at registration.
 */
function guardedLookup(guard: TargetGuard): LookupFunction {
  return (hostname, options, callback) => {
    guard.addressesOf(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
        if (options.all) {
          (callback as unknown as (err: null, all: typeof usable) => void)(null, usable);
          return;
        }
        const [first] = usable;
        if (!first) callback(new TargetRefused(`${hostname} has no IPv${wanted} address`), '', 0);
        else callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, '', 0),
    );
  };
}

/** Reads at most `limit` bytes of a response, then lets the rest go. */
function readPrefix(response: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      response.removeAllListeners('data');
      resolve(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
    };
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        finish();
        response.destroy();
      }
    });
    response.once('end', finish);
    response.once('error', finish);
    response.once('close', finish);
  });
}

/**
 * POSTs one delivery. No redirect is followed (a 3xx is an answer like any other), no connection is
 * reused, and the address is checked at connect time, IP literals included.
 */
export async function sendWebhook(guard: TargetGuard, request: WebhookRequest): Promise<WebhookResponse> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { kind: 'refused', error: `${request.url} is not a URL` };
  }
  // Node connects to an IP literal without any lookup: the guard is asked directly. A name is
  // checked by the lookup the connection itself makes.
  const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const refusal = isIP(literal) === 0 ? undefined : guard.refusal(literal);
  if (refusal !== undefined) return { kind: 'refused', error: refusal };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WebhookResponse>((resolve) => {
    let settled = false;
    const settle = (outcome: WebhookResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const req = send(url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
      agent: false,
      lookup: guardedLookup(guard),
    });
    const timer = setTimeout(() => {
      settle({ kind: 'failed', error: `no answer within ${request.timeoutMs} ms`, aborted: false });
      req.destroy();
    }, request.timeoutMs);
    const onAbort = () => {
      settle({ kind: 'failed', error: 'the registry is shutting down', aborted: true });
      req.destroy();
    };
    request.signal?.addEventListener('abort', onAbort);
    if (request.signal?.aborted) onAbort();
    req.on('socket', (socket) => {
      // Belt and braces: whatever path led here, the peer actually connected to must be allowed.
      socket.once('connect', () => {
        const why = socket.remoteAddress === undefined ? undefined : guard.refusal(socket.remoteAddress);
        if (why !== undefined) {
          settle({ kind: 'refused', error: why });
          req.destroy();
        }
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof TargetRefused) {
        settle({ kind: 'refused', error: error.message });
      } else {
        settle({
          kind: 'failed',
          error: error.code ? `${error.code}: ${error.message}` : error.message,
          aborted: false,
        });
      }
    });
    req.on('response', (response) => {
      readPrefix(response, responsePrefixBytes).then((prefix) =>
        settle({ kind: 'answered', statusCode: response.statusCode ?? 0, responsePrefix: prefix }),
      );
    });
    req.end(request.body);
  });
}
