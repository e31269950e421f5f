import { request } from 'undici';
import { CliError } from '../cli/errors.js';

/** One HTTP exchange with the registry, read whole: the API and OAuth answers are small JSON documents. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface HttpRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Milliseconds before giving up on an answer. */
  readonly timeoutMs?: number;
}

const userAgent = 'mistrive-cli';

export async function httpRequest(url: string, options: HttpRequest = {}): Promise<HttpResponse> {
  const timeout = options.timeoutMs ?? 30_000;
  try {
    const response = await request(url, {
      method: options.method ?? 'GET',
      headers: { 'user-agent': userAgent, ...options.headers },
      body: options.body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  } catch (error) {
    const origin = safeOrigin(url);
    const code = (error as { code?: string }).code;
    throw new CliError(
      'UNREACHABLE',
      `cannot reach the registry at ${origin} (${code ?? (error as Error).message})`,
      {
        hint: 'check the registry URL (`mistrive config get registry`, or --registry) and that the registry is running',
        cause: error,
      },
    );
  }
}

/** Parses a JSON body; an answer that is not JSON is the registry failing. */
export function parseJson<T>(response: HttpResponse, url: string): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new CliError(
      'SERVER_ERROR',
      `the registry answered ${url} with ${response.status} and a body that is not JSON`,
      { hint: 'check that the URL points at a Mistrive registry' },
    );
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
