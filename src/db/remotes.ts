/**
 * Remote repositories: a repository that is a pull-through cache of an upstream registry. Its
 * settings live beside the repository; the password is stored sealed (see `src/remote/secret-box.ts`)
 * and is never handed back by the API.
 */
export interface RemoteSettings {
  /** The upstream registry's origin, e.g. `https://registry-1.docker.io`. */
  readonly url: string;
  /** Credentials for the upstream, when it needs them. */
  readonly username: string | undefined;
  /** The upstream password, sealed with the instance's secret key; never shown. */
  readonly sealedPassword: string | undefined;
  /** Put before an image's name under the repository to name it upstream (`library/`), or ''. */
  readonly prefix: string;
  /** How long a cached tag is served before it is checked against the upstream again. */
  readonly ttlMs: number;
}

/** Changes to a remote's settings; `null` removes the credentials. */
export interface RemoteChanges {
  readonly url?: string;
  readonly username?: string | null;
  readonly sealedPassword?: string | null;
  readonly prefix?: string;
  readonly ttlMs?: number;
}

export interface RemoteStore {
  /** The remote settings of a repository, or undefined when it is a local repository (or missing). */
  find(project: string, repository: string): Promise<RemoteSettings | undefined>;
  /** When a cached tag of the image was last checked against (or fetched from) the upstream. */
  tagCheckedAt(imageId: number, tag: string): Promise<Date | undefined>;
  recordTagCheck(imageId: number, tag: string, at: Date): Promise<void>;
}
