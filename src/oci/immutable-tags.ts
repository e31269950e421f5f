import type { MetadataStore } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import type { ImageName } from './names.js';

/** Whether the repository holding an image refuses to move or delete existing tags. */
export async function tagsAreImmutable(metadata: MetadataStore, name: ImageName): Promise<boolean> {
  return (await metadata.repositories.find(name.project, name.repository))?.immutableTags ?? false;
}

/** The one refusal for a tag change an immutable repository does not allow, from the registry or the API. */
export function immutableTagRefusal(
  name: ImageName,
  change:
    | { kind: 'move' | 'delete'; tag: string }
    | { kind: 'delete-tagged'; digest: string; tags: string[] },
): RegistryError {
  const repository = `${name.project}/${name.repository}`;
  const why = `repository ${repository} has immutable tags`;
  switch (change.kind) {
    case 'move':
      return new RegistryError(
        'DENIED',
        `tag "${change.tag}" of ${name.full} already points at another manifest and ${why}: push under a new tag`,
      );
    case 'delete':
      return new RegistryError('DENIED', `tag "${change.tag}" of ${name.full} cannot be deleted: ${why}`);
    case 'delete-tagged':
      return new RegistryError(
        'DENIED',
        `${change.digest} of ${name.full} is tagged (${change.tags.join(', ')}) and ${why}: its tags cannot be deleted`,
        { detail: { tags: change.tags } },
      );
  }
}
