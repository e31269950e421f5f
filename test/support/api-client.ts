import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { imageManifest, sha256 } from './oci-client.js';
import { testAdminPassword } from './registry.js';

export { sha256 };

/** A small client for the management API over real HTTP, speaking as one set of credentials. */

export type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export const noCredentials: Credentials = { kind: 'none' };

export function basic(username: string, password: string): Credentials {
  return { kind: 'basic', username, password };
}

export function bearer(token: string): Credentials {
  return { kind: 'bearer', token };
}

export function authorization(credentials: Credentials): Record<string, string> {
  switch (credentials.kind) {
    case 'none':
      return {};
    case 'basic':
      return {
        Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
      };
    case 'bearer':
      return { Authorization: `Bearer ${credentials.token}` };
  }
}

/** A JSON body as the tests read it: field by field, with the assertions doing the checking. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted on, not trusted
export type Json = any;

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body; undefined when there is none. */
  readonly body: Json;
}

export class ApiClient {
  constructor(
    readonly url: string,
    readonly credentials: Credentials = noCredentials,
  ) {}

  as(credentials: Credentials): ApiClient {
    return new ApiClient(this.url, credentials);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const init: RequestInit = { method, headers: { ...authorization(this.credentials), ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json', ...init.headers };
    }
    const response = await fetch(`${this.url}${path}`, init);
    const text = await response.text();
    let parsed: unknown;
    if (text !== '' && response.headers.get('content-type')?.includes('json')) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, text, body: parsed };
  }

  get(path: string) {
    return this.request('GET', path);
  }
  post(path: string, body: unknown = {}) {
    return this.request('POST', path, body);
  }
  put(path: string, body: unknown) {
    return this.request('PUT', path, body);
  }
  patch(path: string, body: unknown) {
    return this.request('PATCH', path, body);
  }
  delete(path: string) {
    return this.request('DELETE', path);
  }

  /** Fails the test unless the call succeeded with `status`; returns the body. */
  async ok(method: string, path: string, body?: unknown, status?: number): Promise<Json> {
    const response = await this.request(method, path, body);
    const expected = status ?? (method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200);
    expect(response.status, `${method} ${path}: ${response.text}`).toBe(expected);
    return response.body;
  }
}

/** Checks an error answer: status, code, a message, and the challenge on 401s. */
export function expectApiError(response: ApiResponse, status: number, code: string, message?: RegExp): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body?.errors?.[0]?.code, response.text).toBe(code);
  expect(response.body.errors[0].message.length).toBeGreaterThan(0);
  if (message) expect(response.body.errors[0].message).toMatch(message);
  if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="/);
}

/** Signs in with the CLI's password grant and returns the OAuth access token. */
export async function accessToken(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'mistrive-cli', username, password }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`sign-in as ${username} failed: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/** The instance administrator, signed in once with an access token. */
export async function adminClient(url: string): Promise<ApiClient> {
  return new ApiClient(url, bearer(await accessToken(url, 'admin', testAdminPassword)));
}

/** Creates a user as the administrator and returns a client that signs in as it with Basic credentials. */
export async function createUser(
  admin: ApiClient,
  login: string,
  password = 'user-password-1',
): Promise<ApiClient> {
  await admin.ok('POST', '/api/v1/users', { login, password });
  return admin.as(basic(login, password));
}

export async function createProject(admin: ApiClient, projectId: string, extra: object = {}): Promise<Json> {
  return admin.ok('POST', '/api/v1/projects', { projectId, ...extra });
}

export async function createRepository(
  admin: ApiClient,
  project: string,
  repositoryId: string,
  extra: object = {},
): Promise<Json> {
  return admin.ok('POST', `/api/v1/projects/${project}/repositories`, { repositoryId, ...extra });
}

export interface PushedImage {
  readonly digest: string;
  readonly manifest: Buffer;
  /** Bytes of the manifest, its config and its layers. */
  readonly size: number;
}

async function pushBlobAs(
  url: string,
  name: string,
  bytes: Buffer,
  credentials: Credentials,
): Promise<string> {
  const digest = sha256(bytes);
  const response = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', ...authorization(credentials) },
    body: bytes,
  });
  if (response.status !== 201)
    throw new Error(`blob push failed: ${response.status} ${await response.text()}`);
  return digest;
}

export async function putManifestAs(
  url: string,
  name: string,
  reference: string,
  manifest: Buffer,
  credentials: Credentials,
  mediaType = 'application/vnd.oci.image.manifest.v1+json',
): Promise<Response> {
  return fetch(`${url}/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType, ...authorization(credentials) },
    body: manifest,
  });
}

/** Pushes a config, one random layer and an OCI image manifest over /v2/, tagged when `tag` is given. */
export async function pushImageAs(
  url: string,
  name: string,
  tag: string | undefined,
  credentials: Credentials,
  platform = { architecture: 'amd64', os: 'linux' },
): Promise<PushedImage> {
  const config = Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = randomBytes(300);
  const configDigest = await pushBlobAs(url, name, config, credentials);
  const layerDigest = await pushBlobAs(url, name, layer, credentials);
  const manifest = imageManifest({ digest: configDigest, size: config.length }, [
    { digest: layerDigest, size: layer.length },
  ]);
  const digest = sha256(manifest);
  const response = await putManifestAs(url, name, tag ?? digest, manifest, credentials);
  if (response.status !== 201)
    throw new Error(`manifest push failed: ${response.status} ${await response.text()}`);
  return { digest, manifest, size: manifest.length + config.length + layer.length };
}

/** Pushes an OCI index over images already pushed to the same name. */
export async function pushIndexAs(
  url: string,
  name: string,
  tag: string,
  children: { image: PushedImage; platform: { architecture: string; os: string; variant?: string } }[],
  credentials: Credentials,
): Promise<PushedImage> {
  const mediaType = 'application/vnd.oci.image.index.v1+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: children.map(({ image, platform }) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: image.digest,
        size: image.manifest.length,
        platform,
      })),
    }),
  );
  const response = await putManifestAs(url, name, tag, manifest, credentials, mediaType);
  if (response.status !== 201)
    throw new Error(`index push failed: ${response.status} ${await response.text()}`);
  const size = manifest.length + children.reduce((total, child) => total + child.image.size, 0);
  return { digest: sha256(manifest), manifest, size };
}

/** Adds an IAM binding on a resource path such as `/api/v1/projects/shop`. */
export async function grant(admin: ApiClient, resource: string, member: string, role: string): Promise<void> {
  await admin.ok('POST', `${resource}/iamPolicy/bindings`, { member, role }, 200);
}

export async function revoke(
  admin: ApiClient,
  resource: string,
  member: string,
  role: string,
): Promise<void> {
  const query = new URLSearchParams({ member, role });
  await admin.ok('DELETE', `${resource}/iamPolicy/bindings?${query}`, undefined, 200);
}
