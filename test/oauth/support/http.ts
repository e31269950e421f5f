import { get as httpGet } from 'node:http';

/** Plain HTTP helpers for the OAuth endpoints and pages, over Node's fetch. */

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: Record<string, unknown>;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: Record<string, unknown> = {};
  if (response.headers.get('content-type')?.startsWith('application/json')) json = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, json };
}

export async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return reply(response);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { headers, redirect: 'manual' }));
}

/** The value of a hidden (or any) input of a page, by name. */
export function inputValue(html: string, name: string): string {
  const match = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no input ${name} in the page:\n${html}`);
  return match[1];
}

/** A browser stand-in for the pages: keeps cookies, never follows redirects. */
export class WebClient {
  readonly cookies = new Map<string, string>();

  constructor(private readonly base: string) {}

  async get(path: string): Promise<Reply> {
    return this.keep(await get(`${this.base}${path}`, this.cookieHeader()));
  }

  async post(path: string, fields: Record<string, string>): Promise<Reply> {
    return this.keep(await postForm(`${this.base}${path}`, fields, this.cookieHeader()));
  }

  /** Signs in through the login form; returns the session's CSRF token (read from the account page). */
  async signIn(login: string, password: string): Promise<string> {
    const form = await this.get('/login');
    const signedIn = await this.post('/login', {
      csrf_token: inputValue(form.text, 'csrf_token'),
      login,
      password,
    });
    if (signedIn.status !== 303) throw new Error(`sign-in failed with ${signedIn.status}:\n${signedIn.text}`);
    return inputValue((await this.get('/account')).text, 'csrf_token');
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { Cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  private keep(response: Reply): Reply {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const equals = pair.indexOf('=');
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      if (attributes.some((attribute) => attribute.trim().toLowerCase() === 'max-age=0'))
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

/** A GET with a Host header of the test's choosing (fetch always sends the URL's own). */
export function getWithHost(
  url: string,
  host: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers: { Host: host } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(body || '{}') }));
    });
    request.on('error', reject);
  });
}
