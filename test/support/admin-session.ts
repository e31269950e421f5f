import { testAdminPassword } from './admin-password.js';

/**
 * The registry-core suites act as the instance administrator. Each registry a test starts signs the
 * administrator in once, through the real OAuth password grant, and requests to that registry made
 * with `adminFetch` or `rawHttp` carry the access token as a Bearer token, as the CLI's would.
 */
const tokensByOrigin = new Map<string, string>();

/** The administrator's OAuth password grant, as the CLI sends it; `path` may name the Docker token endpoint. */
export function adminPasswordGrant(url: string, path = '/oauth/token'): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'mistrive-cli',
      username: 'admin',
      password: testAdminPassword,
    }),
  });
}

export async function signInAdmin(url: string): Promise<string> {
  const response = await adminPasswordGrant(url);
  if (response.status !== 200)
    throw new Error(`admin sign-in failed: ${response.status} ${await response.text()}`);
  const { access_token: token } = (await response.json()) as { access_token: string };
  tokensByOrigin.set(new URL(url).origin, token);
  return token;
}

/** The administrator's access token for the registry at `url`, once signed in there. */
export function adminTokenFor(url: string): string | undefined {
  return tokensByOrigin.get(new URL(url).origin);
}

/** `fetch` as the administrator: adds the Bearer token unless the request brings its own Authorization. */
export function adminFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = adminTokenFor(input.toString());
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}
