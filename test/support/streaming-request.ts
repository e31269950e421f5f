import { type Agent, type IncomingHttpHeaders, request } from 'node:http';
import { adminTokenFor } from './admin-session.js';

export interface StreamedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** The end of a request: the server's answer, or the error that broke the connection. */
export type RequestOutcome = { response: StreamedResponse } | { error: Error };

/**
 * A request whose body the test writes piece by piece over raw node:http, so it can stop half-way,
 * crash the server, or finish later. Sent with `Expect: 100-continue`: `continued` resolves once the
 * server has parsed the headers and is dispatching the request, so the test knows it is mid-request.
 */
export interface StreamingRequest {
  readonly continued: Promise<void>;
  /** Resolves once the chunk is handed to the kernel; never rejects (a broken connection shows in `outcome`). */
  write(chunk: Buffer): Promise<void>;
  end(): void;
  readonly outcome: Promise<RequestOutcome>;
}

export function openStreamingRequest(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  agent?: Agent,
): StreamingRequest {
  const token = adminTokenFor(url.toString());
  const authorization = token ? { Authorization: `Bearer ${token}` } : {};
  const req = request(url, {
    method,
    agent,
    headers: { ...authorization, ...headers, Expect: '100-continue' },
  });
  const continued = new Promise<void>((resolve) => req.once('continue', () => resolve()));
  const outcome = new Promise<RequestOutcome>((resolve) => {
    req.once('error', (error) => resolve({ error }));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', (error) => resolve({ error }));
      res.once('end', () =>
        resolve({
          response: {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          },
        }),
      );
    });
  });
  req.flushHeaders();
  return {
    continued,
    write: (chunk) => new Promise<void>((resolve) => req.write(chunk, () => resolve())),
    end: () => req.end(),
    outcome,
  };
}

/** The response of an outcome that must have been one; throws with the error otherwise. */
export function responseOf(outcome: RequestOutcome): StreamedResponse {
  if ('error' in outcome) throw outcome.error;
  return outcome.response;
}
