import { inCliTerms } from '../cli/api-terms.js';
import { deniedHint, fromServerError, type RefusalDetail } from '../cli/errors.js';
import { httpRequest, parseJson } from './http.js';

/** The management API's base path. */
export const apiBase = '/api/v1';

type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  readonly query?: Query;
  readonly body?: unknown;
}

/** The registry's error body: `{"errors":[{code,message,detail}]}`. */
interface ErrorBody {
  errors?: { code?: string; message?: string; detail?: RefusalDetail }[];
  error?: string;
  error_description?: string;
}

/** Percent-encodes one path segment. */
export const segment = (value: string) => encodeURIComponent(value);

/**
 * The management API over HTTP, authenticated with an access token as Bearer. Failures become
 * CLI errors with the troubleshooting hints; the typed operations live in `src/client/resources.ts`.
 */
export class ApiClient {
  constructor(
    readonly registry: string,
    private readonly accessToken: () => Promise<string>,
  ) {}

  async call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: CallOptions = {},
  ): Promise<T> {
    const url = new URL(`${apiBase}${path}`, this.registry);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const token = await this.accessToken();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await httpRequest(url.toString(), { method, headers, body });
    if (response.status >= 200 && response.status < 300) {
      if (response.status === 204 || response.text === '') return undefined as T;
      return parseJson<T>(response, url.pathname);
    }
    let code: string | undefined;
    let message = `the registry answered ${response.status}`;
    let detail: RefusalDetail | undefined;
    try {
      const error = JSON.parse(response.text) as ErrorBody;
      const first = error.errors?.[0];
      code = first?.code ?? error.error?.toUpperCase();
      message = inCliTerms(first?.message ?? error.error_description ?? message);
      detail = typeof first?.detail === 'object' && first.detail !== null ? first.detail : undefined;
    } catch {
      // not JSON: keep the status
    }
    throw fromServerError(response.status, code, message, this.registry, deniedHint(path, detail));
  }
}

/** The most items a list call asks for at once. */
/** The largest page the management API hands out. */
export const pageSize = 1000;

/** Every item of a paged list (`{FIELD: [...], nextPageToken}`), following page tokens to the end. */
export async function allPages<K extends string, T>(client: ApiClient, path: string, field: K): Promise<T[]> {
  const items: T[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.call<Record<K, T[]> & { nextPageToken?: string }>('GET', path, {
      query: { pageSize, pageToken },
    });
    items.push(...(page[field] ?? []));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return items;
}
