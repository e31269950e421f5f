import type { CliContext } from './context.js';
import { registryHost, sameHost } from './credentials/registry-url.js';
import { CliError, hints } from './errors.js';

/**
 * Image and repository references as people type them: `[HOST/]PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST]`
 * (DESIGN §2) and `[HOST/]PROJECT/REPOSITORY`. A first component with a dot or a colon, or
 * `localhost`, is a registry host, as Docker reads it.
 */

export interface RepositoryReference {
  /** The registry origin, when the reference named a host. */
  readonly host: string | undefined;
  readonly project: string;
  readonly repository: string;
}

export interface ImageReference extends RepositoryReference {
  /** The name inside the repository, e.g. `backend/api`. */
  readonly image: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

/**
 * A digest, or a prefix of one as tables show it (`sha256:ffb5629b2148`): at least 12 hex digits,
 * as short image IDs are elsewhere. A prefix is resolved against the image's digests.
 */
const digestShape = /^(sha256:[a-f0-9]{12,64}|sha512:[a-f0-9]{12,128})$/;
const fullDigestLength: Record<string, number> = { sha256: 64, sha512: 128 };

/** Whether a digest as written is whole, rather than a prefix to resolve. */
export function isFullDigest(digest: string): boolean {
  const [algorithm = '', hex = ''] = digest.split(':');
  return hex.length === fullDigestLength[algorithm];
}
const tagShape = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** What a tag may be, as a sentence for the errors that refuse one. */
const tagRule = 'a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"';

/** Refuses a tag name the registry would refuse, naming it. */
export function checkTag(tag: string): string {
  if (!tagShape.test(tag)) throw new CliError('USAGE', `"${tag}" is not a tag: ${tagRule}`);
  return tag;
}

/** The one of `digests` (those of image `name`) that starts with `prefix`; a clear error when none or several do. */
export function resolveDigestPrefix(prefix: string, digests: readonly string[], name: string): string {
  const matches = digests.filter((digest) => digest.startsWith(prefix));
  const [only] = matches;
  if (matches.length === 1 && only) return only;
  if (matches.length === 0) {
    throw new CliError('NOT_FOUND', `no digest of ${name} starts with ${prefix}`, {
      hint: `\`mistrive images describe ${name}\` lists its digests`,
    });
  }
  throw new CliError(
    'USAGE',
    `${prefix} is ambiguous: ${matches.length} digests of ${name} start with it: ${matches.join(', ')}`,
    { hint: 'give more of the digest' },
  );
}

function isHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

function splitHost(text: string): { host: string | undefined; components: string[] } {
  const components = text.split('/');
  const first = components[0] ?? '';
  if (components.length > 1 && isHost(first)) return { host: first, components: components.slice(1) };
  return { host: undefined, components };
}

export function parseImageReference(text: string): ImageReference {
  const invalid = (why: string) =>
    new CliError('USAGE', `"${text}" is not an image reference: ${why}`, {
      hint: 'write [HOST/]PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST], e.g. localhost:5000/my-project/backend/api:v1',
    });
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestShape.test(digest)) {
      throw invalid(
        `"${digest}" is not a digest: write sha256: and its 64 hex digits, or a unique prefix of at least 12`,
      );
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon > lastSlash && colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagShape.test(tag)) throw invalid(`"${tag}" is not a tag (${tagRule})`);
  }
  const { host, components } = splitHost(rest);
  if (components.length < 3 || components.some((component) => component === '')) {
    throw invalid('it needs a project, a repository and an image name');
  }
  const [project = '', repository = '', ...image] = components;
  return { host, project, repository, image: image.join('/'), tag, digest };
}

/** `REPOSITORY` (with the project from --project or the config), `PROJECT/REPOSITORY` or `HOST/PROJECT/REPOSITORY`. */
export function parseRepositoryReference(
  context: CliContext,
  text: string,
  projectFlag?: string,
): RepositoryReference {
  const { host, components } = splitHost(text.trim());
  if (components.length === 1 && components[0]) {
    return { host, project: context.project(projectFlag), repository: components[0] };
  }
  if (components.length === 2 && components[0] && components[1]) {
    if (projectFlag !== undefined && projectFlag !== components[0]) {
      throw new CliError(
        'USAGE',
        `"${text}" names project ${components[0]} but --project says ${projectFlag}`,
      );
    }
    return { host, project: components[0], repository: components[1] };
  }
  throw new CliError(
    'USAGE',
    `"${text}" is not a repository: write [HOST/]PROJECT/REPOSITORY, or REPOSITORY with --project`,
    {
      hint: hints.ids,
    },
  );
}

/** The registry a reference points at: its host when it names one (matched to a known registry's scheme), else the usual one. */
export function registryOf(context: CliContext, host: string | undefined, registryFlag?: string): string {
  if (registryFlag !== undefined || host === undefined) return context.registry(registryFlag);
  const configured = context.registry();
  if (sameHost(registryHost(configured), host)) return configured;
  const registry = context.normalizeRegistry(host);
  if (!registry) throw new CliError('USAGE', `"${host}" is not a registry host`);
  return registry;
}

/** `PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST]` for messages. */
export function formatReference(reference: ImageReference): string {
  const name = `${reference.project}/${reference.repository}/${reference.image}`;
  if (reference.digest) return `${name}@${reference.digest}`;
  return reference.tag ? `${name}:${reference.tag}` : name;
}
