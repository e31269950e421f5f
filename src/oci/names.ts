import { RegistryError } from '../errors/registry-error.js';

/**
 * Repository names are `PROJECT/REPOSITORY/IMAGE` (IMAGE may contain `/`). PROJECT and REPOSITORY
 * are IDs; every component must also satisfy the OCI name grammar.
 */
export interface ImageName {
  readonly project: string;
  readonly repository: string;
  readonly image: string;
  /** The full OCI repository name. */
  readonly full: string;
}

const ociComponent = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/**
 * Project, repository and service-account IDs (DESIGN §2): lowercase letters, digits and hyphens,
 * starting with a letter and not ending with a hyphen, so that every ID is also a valid component
 * of an OCI repository name.
 */
export const resourceIdPattern = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const maxNameLength = 255;

export function parseImageName(full: string): ImageName {
  if (full.length > maxNameLength) {
    throw new RegistryError('NAME_INVALID', `repository name is longer than ${maxNameLength} characters`);
  }
  const parts = full.split('/');
  const bad = parts.find((part) => !ociComponent.test(part));
  if (bad !== undefined) {
    throw new RegistryError(
      'NAME_INVALID',
      `invalid repository name "${full}": component "${bad}" must be lowercase letters and digits, separated by ".", "_", "__" or "-"`,
    );
  }
  const [project = '', repository = '', ...rest] = parts;
  if (rest.length === 0) {
    throw new RegistryError(
      'NAME_INVALID',
      `invalid repository name "${full}": names are PROJECT/REPOSITORY/IMAGE, e.g. my-project/backend/api-server (IMAGE and NAMESPACE/IMAGE are taken only by a registry started with --auto-create-repositories)`,
    );
  }
  for (const [kind, id] of [
    ['project', project],
    ['repository', repository],
  ] as const) {
    if (!resourceIdPattern.test(id)) {
      throw new RegistryError(
        'NAME_INVALID',
        `invalid ${kind} ID "${id}" in "${full}": IDs are lowercase letters, digits and hyphens, starting with a letter`,
      );
    }
  }
  return { project, repository, image: rest.join('/'), full };
}

/**
 * Where one- and two-part names live on a registry that takes them (`--auto-create-repositories`,
 * as a local registry would): `IMAGE` is `local/library/IMAGE` and `NAMESPACE/IMAGE` is
 * `local/NAMESPACE/IMAGE`, so `library/IMAGE` and `IMAGE` are one image, as on Docker Hub.
 */
export const shortNames = { project: 'local', repository: 'library' } as const;

/**
 * The full name a client's name stands for: itself when it has three parts or more, else (when
 * short names are taken) its place under the `local` project. Anything it cannot stand for is
 * NAME_INVALID, saying why.
 */
export function resolveImageName(name: string, takeShortNames: boolean): ImageName {
  const parts = name.split('/');
  if (!takeShortNames || parts.length >= 3 || !parts.every((part) => ociComponent.test(part))) {
    return parseImageName(name);
  }
  const [namespace, image] = parts.length === 1 ? [shortNames.repository, parts[0]] : parts;
  return parseImageName(`${shortNames.project}/${namespace}/${image}`);
}

const tagShape = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function assertTag(tag: string): string {
  if (!tagShape.test(tag)) {
    throw new RegistryError(
      'TAG_INVALID',
      `invalid tag "${tag.slice(0, 140)}": up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`,
    );
  }
  return tag;
}
