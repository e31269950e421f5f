import { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import { CliError } from '../cli/errors.js';
import { type DigestAlgorithm, digestOf } from '../oci/digest.js';
import { mediaTypes } from '../oci/media-types.js';
import type { RegistryCredentials } from './docker-config.js';

/**
 * A client of the OCI Distribution API of any registry (Mistrive, distribution, Docker Hub…): the
 * Docker token flow (a 401 challenge names a Bearer realm; a token for the scopes is fetched with the
 * credentials, once, and reused), manifests as exact bytes, blobs as streams, uploads and
 * cross-repository mounts. Bodies are streamed, never held whole.
 */

/** Every manifest type a copy carries, so the registry answers with the bytes it stores. */
export const manifestAccept = [
  mediaTypes.ociIndex,
  mediaTypes.ociManifest,
  mediaTypes.dockerManifestList,
  mediaTypes.dockerManifest,
].join(', ');

export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface Challenge {
  readonly scheme: 'bearer' | 'basic';
  readonly realm?: string;
  readonly service?: string;
}

export type UploadStart = { readonly mounted: true } | { readonly mounted: false; readonly location: string };

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Send {
  readonly scopes: readonly string[];
  readonly headers?: Record<string, string>;
  /** A body that can be sent again after an authentication round trip (a streamed body cannot). */
  readonly body?: Buffer | string | Readable;
  readonly absoluteUrl?: string;
}

const userAgent = 'mistrive-cli';
const maxRedirects = 5;

/** One connection pool for every registry a command talks to: blobs flow several at a time. */
const agent = new Agent({ connections: 16, headersTimeout: 120_000, bodyTimeout: 300_000 });

export const pullScope = (name: string) => `repository:${name}:pull`;
export const pushScope = (name: string) => `repository:${name}:pull,push`;

/** Parses `WWW-Authenticate: Bearer realm="…",service="…"` (or Basic). */
export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const text = Array.isArray(header) ? header.join(', ') : header;
  if (!text) return undefined;
  const scheme = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const fields: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="([^"]*)"/g)) fields[match[1] ?? ''] = match[2] ?? '';
  return { scheme, realm: fields.realm, service: fields.service };
}

/** The first OCI error of an answer, as "CODE: message". */
function ociError(text: string): string | undefined {
  try {
    const first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    if (first) return `${first.code ?? 'ERROR'}: ${first.message ?? ''}`.trim();
  } catch {
    // not an OCI error body
  }
  return undefined;
}

export class RegistryClient {
  private challenge: Challenge | undefined;
  private discovery: Promise<void> | undefined;
  private readonly tokens = new Map<string, { token: Promise<string | undefined>; expiresAt: number }>();

  constructor(
    /** The registry's origin. */
    readonly registry: string,
    private readonly credentials: () => Promise<RegistryCredentials | undefined>,
  ) {}

  private url(path: string): string {
    return new URL(path, this.registry).toString();
  }

  /** The Authorization header for these scopes, once the registry's challenge is known. */
  private async authorization(scopes: readonly string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const credentials = await this.credentials();
      if (credentials?.kind !== 'basic') return undefined;
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    let token = cached && cached.expiresAt > Date.now() ? cached.token : undefined;
    if (!token) {
      // Renewed well before it expires: a blob upload of several minutes must not start with a stale token.
      const fetching = this.fetchToken(challenge, scopes);
      token = fetching.then((answer) => answer.token);
      const entry = { token, expiresAt: Number.POSITIVE_INFINITY };
      this.tokens.set(key, entry);
      fetching.then(
        (answer) => {
          entry.expiresAt = Date.now() + answer.lifetimeSeconds * 500;
        },
        () => this.tokens.delete(key),
      );
    }
    const value = await token;
    return value ? `Bearer ${value}` : undefined;
  }

  private async fetchToken(
    challenge: Challenge,
    scopes: readonly string[],
  ): Promise<{ token: string | undefined; lifetimeSeconds: number }> {
    if (!challenge.realm)
      throw new CliError('SERVER_ERROR', `${this.registry} asks for a token but names no realm`);
    const credentials = await this.credentials();
    const realm = new URL(challenge.realm, this.registry);
    const params = new URLSearchParams();
    if (challenge.service) params.set('service', challenge.service);
    for (const scope of scopes) params.append('scope', scope);
    let response: Dispatcher.ResponseData;
    try {
      if (credentials?.kind === 'identity-token') {
        params.set('grant_type', 'refresh_token');
        params.set('refresh_token', credentials.token);
        params.set('client_id', 'mistrive');
        response = await request(realm, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent },
          body: params.toString(),
        });
      } else {
        for (const [name, value] of params) realm.searchParams.append(name, value);
        const headers: Record<string, string> = { 'user-agent': userAgent };
        if (credentials) {
          headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
        }
        response = await request(realm, { method: 'GET', dispatcher: agent, headers });
      }
    } catch (error) {
      throw unreachable(realm.origin, error);
    }
    const text = (await bodyOf(response.body)).toString('utf8');
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new CliError(
        'AUTH_REQUIRED',
        `${this.registry} refused the credentials${credentials ? '' : ' (none were found)'}: ${ociError(text) ?? response.statusCode}`,
        {
          hint: 'sign in: `mistrive auth login --registry URL` for a Mistrive registry, `docker login HOST` for another',
        },
      );
    }
    if (response.statusCode !== 200) {
      throw new CliError(
        'SERVER_ERROR',
        `the token endpoint of ${this.registry} answered ${response.statusCode}`,
      );
    }
    const body = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
    // The token spec's default lifetime is 60 seconds when none is given.
    return { token: body.token ?? body.access_token, lifetimeSeconds: body.expires_in ?? 60 };
  }

  /**
   * One request, authenticated as the registry asked on `GET /v2/` (learnt once, before the first
   * request, so that concurrent requests and streamed bodies never meet an unexpected 401).
   */
  async send(method: Method, path: string, options: Send): Promise<Dispatcher.ResponseData> {
    await this.discover();
    const url = options.absoluteUrl ?? this.url(path);
    const authorization = await this.authorization(options.scopes);
    try {
      return await request(url, {
        method,
        dispatcher: agent,
        headers: {
          'user-agent': userAgent,
          ...(authorization ? { authorization } : {}),
          ...options.headers,
        },
        body: options.body,
      });
    } catch (error) {
      throw unreachable(this.registry, error);
    }
  }

  /** `GET /v2/` without credentials: a 401 names how to authenticate (Bearer realm or Basic), a 200 that none is needed. */
  private discover(): Promise<void> {
    this.discovery ??= (async () => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(this.url('/v2/'), {
          method: 'GET',
          dispatcher: agent,
          headers: { 'user-agent': userAgent },
        });
      } catch (error) {
        throw unreachable(this.registry, error);
      }
      await response.body.dump();
      if (response.statusCode === 401) this.challenge = parseChallenge(response.headers['www-authenticate']);
      else if (response.statusCode !== 200) {
        throw new CliError(
          'SERVER_ERROR',
          `${this.registry} is not an OCI registry: GET /v2/ answered ${response.statusCode}`,
        );
      }
    })();
    this.discovery.catch(() => {
      this.discovery = undefined;
    });
    return this.discovery;
  }

  /** A failed answer as the CLI's error: not signed in, not allowed, not found, or the registry failing. */
  private async failure(response: Dispatcher.ResponseData, what: string): Promise<CliError> {
    const text = (await bodyOf(response.body).catch(() => Buffer.alloc(0))).toString('utf8');
    const reason = ociError(text) ?? `HTTP ${response.statusCode}`;
    const message = `${what} on ${this.registry}: ${reason}`;
    switch (response.statusCode) {
      case 401:
        return new CliError(
          'AUTH_REQUIRED',
          (await this.credentials())
            ? message
            : `${message} (no credentials for it were found in the CLI's accounts or the Docker config)`,
          {
            hint: 'sign in: `mistrive auth login --registry URL` for a Mistrive registry, `docker login HOST` for another',
          },
        );
      case 403:
        return new CliError('PERMISSION_DENIED', message, {
          hint: 'reading needs the viewer role on the source, writing the editor role on the destination',
        });
      case 404:
        return new CliError('NOT_FOUND', message, { hint: 'check the image name, tag or digest' });
      default:
        return new CliError(response.statusCode < 500 ? 'FAILED_PRECONDITION' : 'SERVER_ERROR', message);
    }
  }

  /** The manifest a tag or digest names, byte for byte; a digest reference is checked against the bytes. */
  async manifest(name: string, reference: string): Promise<FetchedManifest> {
    const response = await this.send('GET', `/v2/${name}/manifests/${reference}`, {
      scopes: [pullScope(name)],
      headers: { accept: manifestAccept },
    });
    if (response.statusCode !== 200)
      throw await this.failure(response, `reading manifest ${name}:${reference}`);
    const bytes = await bodyOf(response.body);
    const mediaType = manifestMediaType(bytes, response.headers['content-type']);
    const algorithm = (reference.includes(':') ? reference.split(':')[0] : 'sha256') as DigestAlgorithm;
    const digest = digestOf(bytes, algorithm);
    if (reference.includes(':') && digest !== reference) {
      throw new CliError(
        'SERVER_ERROR',
        `${this.registry} answered ${name}@${reference} with bytes whose digest is ${digest}`,
      );
    }
    return { digest, mediaType, bytes };
  }

  /** Whether a blob is in the repository (HEAD). */
  async hasBlob(name: string, digest: string, scopes = [pullScope(name)]): Promise<boolean> {
    const response = await this.send('HEAD', `/v2/${name}/blobs/${digest}`, { scopes });
    await response.body.dump();
    if (response.statusCode === 200) return true;
    if (response.statusCode === 404) return false;
    throw await this.failure(response, `checking blob ${digest} of ${name}`);
  }

  /** Whether a manifest is in the repository (HEAD). */
  async hasManifest(name: string, digest: string, scopes = [pullScope(name)]): Promise<boolean> {
    const response = await this.send('HEAD', `/v2/${name}/manifests/${digest}`, {
      scopes,
      headers: { accept: manifestAccept },
    });
    await response.body.dump();
    if (response.statusCode === 200) return true;
    if (response.statusCode === 404) return false;
    throw await this.failure(response, `checking manifest ${digest} of ${name}`);
  }

  /** A blob's bytes as a stream, following a redirect to where the registry keeps them. */
  async blob(name: string, digest: string): Promise<Readable> {
    let response = await this.send('GET', `/v2/${name}/blobs/${digest}`, { scopes: [pullScope(name)] });
    for (let hops = 0; response.statusCode >= 300 && response.statusCode < 400; hops++) {
      const location = response.headers.location;
      await response.body.dump();
      if (typeof location !== 'string' || hops >= maxRedirects) {
        throw new CliError('SERVER_ERROR', `${this.registry} redirected blob ${digest} nowhere usable`);
      }
      const target = new URL(location, this.registry);
      // The registry's token is not for wherever it redirects (a storage bucket's signed URL).
      response =
        target.origin === new URL(this.registry).origin
          ? await this.send('GET', '', { scopes: [pullScope(name)], absoluteUrl: target.toString() })
          : await request(target, { method: 'GET', dispatcher: agent, headers: { 'user-agent': userAgent } });
    }
    if (response.statusCode !== 200) throw await this.failure(response, `reading blob ${digest} of ${name}`);
    return response.body;
  }

  /**
   * Starts an upload; with `mount`, asks to link the blob from another repository of this registry
   * instead (201: mounted; 202: the registry would not, and the answer is an upload session to use).
   */
  async startUpload(name: string, mount?: { digest: string; from: string }): Promise<UploadStart> {
    const query = mount
      ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}`
      : '';
    const scopes = mount ? [pushScope(name), pullScope(mount.from)] : [pushScope(name)];
    const response = await this.send('POST', `/v2/${name}/blobs/uploads/${query}`, { scopes });
    if (response.statusCode === 201 && mount) {
      await response.body.dump();
      return { mounted: true };
    }
    if (response.statusCode !== 202) throw await this.failure(response, `starting an upload to ${name}`);
    await response.body.dump();
    const location = response.headers.location;
    if (typeof location !== 'string')
      throw new CliError('SERVER_ERROR', `${this.registry} started an upload without a Location`);
    return { mounted: false, location: new URL(location, this.registry).toString() };
  }

  /** Sends a blob's bytes into an upload session and closes it with the digest (`PUT ?digest=`). */
  async finishUpload(
    name: string,
    location: string,
    digest: string,
    size: number,
    body: AsyncIterable<Buffer>,
  ): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const response = await this.send('PUT', '', {
      scopes: [pushScope(name)],
      absoluteUrl: url.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: Readable.from(body, { objectMode: false, highWaterMark: 1024 * 1024 }),
    });
    if (response.statusCode !== 201)
      throw await this.failure(response, `uploading blob ${digest} to ${name}`);
    await response.body.dump();
  }

  /** Stores a manifest's exact bytes under a tag or its digest; returns the digest the registry computed. */
  async putManifest(name: string, reference: string, manifest: FetchedManifest): Promise<string> {
    const response = await this.send('PUT', `/v2/${name}/manifests/${reference}`, {
      scopes: [pushScope(name)],
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
    });
    if (response.statusCode !== 201)
      throw await this.failure(response, `storing manifest ${name}:${reference}`);
    await response.body.dump();
    const answered = response.headers['docker-content-digest'];
    return typeof answered === 'string' ? answered : manifest.digest;
  }

  /** Every tag of a repository, following `Link` pagination. */
  async tags(name: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${name}/tags/list?n=1000`;
    while (path) {
      const response = await this.send('GET', path, { scopes: [pullScope(name)] });
      if (response.statusCode !== 200) throw await this.failure(response, `listing the tags of ${name}`);
      const body = JSON.parse((await bodyOf(response.body)).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = response.headers.link;
      path = typeof link === 'string' ? /<([^>]+)>;\s*rel="?next"?/.exec(link)?.[1] : undefined;
    }
    return tags;
  }

  /**
   * The manifests whose subject is `digest`: the referrers API, or the tag `sha256-HEX` that
   * registries without it (distribution 2.8) hold an index under.
   */
  async referrers(name: string, digest: string): Promise<{ digest: string; mediaType: string }[]> {
    const response = await this.send('GET', `/v2/${name}/referrers/${digest}`, { scopes: [pullScope(name)] });
    if (response.statusCode === 200) {
      const index = JSON.parse((await bodyOf(response.body)).toString('utf8')) as {
        manifests?: { digest: string; mediaType: string }[];
      };
      return index.manifests ?? [];
    }
    await response.body.dump();
    if (response.statusCode !== 404 && response.statusCode !== 400) {
      throw await this.failure(response, `listing the referrers of ${digest} in ${name}`);
    }
    const fallbackTag = digest.replace(':', '-');
    const tagged = await this.send('GET', `/v2/${name}/manifests/${fallbackTag}`, {
      scopes: [pullScope(name)],
      headers: { accept: mediaTypes.ociIndex },
    });
    if (tagged.statusCode !== 200) {
      await tagged.body.dump();
      return [];
    }
    const index = JSON.parse((await bodyOf(tagged.body)).toString('utf8')) as {
      manifests?: { digest: string; mediaType: string }[];
    };
    return index.manifests ?? [];
  }
}

/**
 * A small answer's body, read whole. undici's own `text()`/`json()` throw from a microtask (and take
 * the process down) when the body has already ended, so they are not used.
 */
async function bodyOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A manifest's media type: its `mediaType` field, else the Content-Type the registry sent. */
export function manifestMediaType(bytes: Buffer, contentType: string | string[] | undefined): string {
  try {
    const field = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    if (typeof field === 'string') return field;
  } catch {
    throw new CliError('SERVER_ERROR', 'the registry answered with a manifest that is not JSON');
  }
  const header = (Array.isArray(contentType) ? contentType[0] : contentType)?.split(';')[0]?.trim();
  return header || mediaTypes.ociManifest;
}

function unreachable(where: string, error: unknown): CliError {
  const code = (error as { code?: string }).code;
  return new CliError('UNREACHABLE', `cannot reach ${where} (${code ?? (error as Error).message})`, {
    hint: 'check the registry address and that the registry is running',
    cause: error,
  });
}
