import type { ImageRecord } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import { parseImageName } from './names.js';
import type { RegistryContext } from './registry-context.js';

const notFound = () => new RegistryError('NAME_UNKNOWN', 'repository not found');

/** Finds the image a pull names; a missing project, repository or image is NAME_UNKNOWN. */
export async function imageForPull(context: RegistryContext, name: string): Promise<ImageRecord> {
  parseImageName(name);
  const image = await context.metadata.catalog.findImage(name);
  if (!image) throw notFound();
  return image;
}

/**
 * Finds or creates the image a push names. Projects and repositories must exist first, unless the
 * registry runs in the open mode that creates them on first push.
 */
export async function imageForPush(context: RegistryContext, name: string): Promise<ImageRecord> {
  const parsed = parseImageName(name);
  const { catalog, remotes } = context.metadata;
  const remote = await remotes.find(parsed.project, parsed.repository);
  if (remote) {
    throw new RegistryError(
      'DENIED',
      `repository ${parsed.project}/${parsed.repository} is a pull-through cache of ${remote.url}; push to a local repository`,
    );
  }
  const existing = await catalog.findImage(name);
  const now = context.clock.now();
  if (existing) {
    // Marks the image in use, so the collector does not remove it as empty while this push runs.
    if (existing.touchedAt < context.promises.refreshAfter(now)) await catalog.touchImage(existing.id, now);
    return existing;
  }
  if (context.autoCreateRepositories) {
    await catalog.ensureRepository(parsed.project, parsed.repository, now);
  } else if (!(await catalog.repositoryExists(parsed.project, parsed.repository))) {
    throw notFound();
  }
  return catalog.ensureImage(parsed.project, parsed.repository, name, now);
}

/**
 * Writes into the image a push names. A delete of the image can land between its lookup and the
 * write (`write` then answers `no-image`): the push wins by finding or creating the image once more, and
 * only a second loss (the repository itself deleted, or deletes in a tight loop) refuses it.
 */
export async function pushInto<T>(
  context: RegistryContext,
  name: string,
  image: ImageRecord,
  write: (image: ImageRecord) => Promise<T | 'no-image'>,
): Promise<T> {
  const first = await write(image);
  if (first !== 'no-image') return first;
  const second = await write(await imageForPush(context, name));
  if (second !== 'no-image') return second;
  throw new RegistryError('NAME_UNKNOWN', `${name} was deleted while this push was under way`);
}
