import type { MetadataStore } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import type { ImageName } from './names.js';

/** Whether the repository holding an image refuses to move or delete existing tags. */
export async function tagsAreImmutable(metadata: MetadataStore, name: ImageName): Promise<boolean> {
  return (await metadata.repositories.find(name.project, name.repository))?.immutableTags ?? false;
}

/**
 * The one refusal for a tag change an immutable repository does not allow, from the registry or the
 * API. Its detail names the repository and its `immutableTags` setting, so that a client can point
 * at the setting rather than at roles: no role lifts this refusal.
 */
export function immutableTagRefusal(
  name: ImageName,
  change:
    | { kind: 'move' | 'delete'; tag: string }
    | { kind: 'delete-tagged'; digest: string; tags: string[] }
    | { kind: 'delete-image' },
): RegistryError {
  const repository = `${name.project}/${name.repository}`;
  const why = `repository ${repository} has immutable tags`;
  const detail = { setting: 'immutableTags', repository };
  switch (change.kind) {
    case 'move':
      return new RegistryError(
        'DENIED',
        `tag "${change.tag}" of ${name.full} already points at another manifest and ${why}: push under a new tag`,
        { detail },
      );
    case 'delete':
      return new RegistryError('DENIED', `tag "${change.tag}" of ${name.full} cannot be deleted: ${why}`, {
        detail,
      });
    case 'delete-tagged':
      return new RegistryError(
        'DENIED',
        `${change.digest} of ${name.full} is tagged (${change.tags.join(', ')}) and ${why}: its tags cannot be deleted`,
        { detail: { ...detail, tags: change.tags } },
      );
    case 'delete-image':
      return new RegistryError('DENIED', `${name.full} has tags and ${why}: its tags cannot be deleted`, {
        detail,
      });
  }
}
