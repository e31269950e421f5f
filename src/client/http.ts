import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, request } from 'undici';
import { CliError } from '../cli/errors.js';
import { trustedCaFor } from './trusted-cas.js';

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

const trustingAgents = new Map<string, Agent>();

/** For a registry whose CA the CLI was given, a connection pool that trusts it beside the system's CAs. */
function dispatcherFor(url: string): Dispatcher | undefined {
  const parsed = new URL(url);
  const ca = trustedCaFor(parsed);
  if (ca === undefined) return undefined;
  let agent = trustingAgents.get(parsed.host);
  if (!agent) {
    agent = new Agent({ connect: { ca: [...rootCertificates, ca] } });
    trustingAgents.set(parsed.host, agent);
  }
  return agent;
}

export async function httpRequest(url: string, options: HttpRequest = {}): Promise<HttpResponse> {
  const timeout = options.timeoutMs ?? 30_000;
  try {
    const response = await request(url, {
      method: options.method ?? 'GET',
      headers: { 'user-agent': userAgent, ...options.headers },
      body: options.body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      dispatcher: dispatcherFor(url),
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  } catch (error) {
    const origin = safeOrigin(url);
    const code = (error as { code?: string }).code;
    if (code !== undefined && untrustedCertificate.has(code)) throw untrusted(origin, code, error);
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

/** TLS failures that mean the registry's certificate is not one this machine trusts. */
const untrustedCertificate: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function untrusted(origin: string, code: string, cause: unknown): CliError {
  const host = new URL(origin).host;
  return new CliError('UNREACHABLE', `cannot trust the certificate of the registry at ${origin} (${code})`, {
    hint: `if the registry uses its own CA (mistrive serve --tls self-signed), get its ca.crt from the registry's administrator and run \`mistrive auth login --registry ${origin} --ca-cert ca.crt\` or \`mistrive auth configure-docker ${host} --ca-cert ca.crt\``,
    cause,
  });
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
