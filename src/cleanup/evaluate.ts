import { parseDuration } from '../lib/durations.js';
import { type CleanupCondition, type CleanupPolicies, type CleanupPolicy, normalTagState } from './policy.js';

/** One manifest of a repository, as the policies see it. */
export interface PolicySubject {
  readonly imageId: number;
  /** The image's name inside its repository, e.g. `backend/api`. */
  readonly image: string;
  readonly digest: string;
  readonly tags: readonly string[];
  /** When it was pushed: ages are measured from here. */
  readonly createdAt: Date;
}

/** An index (or manifest list) of an image listing another manifest of the same image. */
export interface IndexEntry {
  readonly imageId: number;
  readonly index: string;
  readonly child: string;
}

export interface RepositoryState {
  readonly subjects: readonly PolicySubject[];
  readonly indexEntries: readonly IndexEntry[];
  readonly immutableTags: boolean;
}

export interface Doomed {
  readonly subject: PolicySubject;
  /** The Delete policies that matched it. */
  readonly policies: string[];
}

const keyOf = (imageId: number, digest: string) => `${imageId} ${digest}`;

function matches(condition: CleanupCondition, subject: PolicySubject, now: Date): boolean {
  const tagged = subject.tags.length > 0;
  const state = condition.tagPrefixes ? 'tagged' : normalTagState(condition.tagState);
  if (state === 'tagged' && !tagged) return false;
  if (state === 'untagged' && tagged) return false;
  if (
    condition.tagPrefixes &&
    !subject.tags.some((tag) => condition.tagPrefixes?.some((prefix) => tag.startsWith(prefix)))
  ) {
    return false;
  }
  if (
    condition.imageNamePrefixes &&
    !condition.imageNamePrefixes.some((prefix) => subject.image.startsWith(prefix))
  ) {
    return false;
  }
  const age = now.getTime() - subject.createdAt.getTime();
  if (condition.olderThan !== undefined && !(age > (parseDuration(condition.olderThan) ?? 0))) return false;
  if (condition.newerThan !== undefined && !(age < (parseDuration(condition.newerThan) ?? 0))) return false;
  return true;
}

/**
 * The digests a `mostRecentVersions` policy keeps: in each image it applies to, the `keepCount`
 * most recently pushed of the digests no index of the image lists (an index's platform images
 * follow their index rather than taking places of their own).
 */
function mostRecent(policy: CleanupPolicy, state: RepositoryState, listed: ReadonlySet<string>): Set<string> {
  const rule = policy.mostRecentVersions;
  const kept = new Set<string>();
  if (!rule) return kept;
  const byImage = new Map<number, PolicySubject[]>();
  for (const subject of state.subjects) {
    if (listed.has(keyOf(subject.imageId, subject.digest))) continue;
    if (rule.imageNamePrefixes && !rule.imageNamePrefixes.some((prefix) => subject.image.startsWith(prefix)))
      continue;
    const subjects = byImage.get(subject.imageId);
    if (subjects) subjects.push(subject);
    else byImage.set(subject.imageId, [subject]);
  }
  for (const subjects of byImage.values()) {
    const newestFirst = subjects.sort(
      (a, b) =>
        b.createdAt.getTime() - a.createdAt.getTime() ||
        (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0),
    );
    for (const subject of newestFirst.slice(0, rule.keepCount))
      kept.add(keyOf(subject.imageId, subject.digest));
  }
  return kept;
}

/**
 * What the policies delete, at `now`: each digest a Delete policy matches and no Keep policy does,
 * except a tagged digest when tags are immutable, and a digest an index still lists while that index
 * stays. Indexes come before what they list, so each delete leaves nothing dangling.
 */
export function evaluatePolicies(policies: CleanupPolicies, state: RepositoryState, now: Date): Doomed[] {
  const deletes = policies.filter((policy) => policy.action.type === 'Delete');
  if (deletes.length === 0) return [];
  const keeps = policies.filter((policy) => policy.action.type === 'Keep');
  const listed = new Set(state.indexEntries.map((entry) => keyOf(entry.imageId, entry.child)));
  const keptByCount = keeps.map((policy) => mostRecent(policy, state, listed));

  const doomed = new Map<string, Doomed>();
  for (const subject of state.subjects) {
    const key = keyOf(subject.imageId, subject.digest);
    const matched = deletes.filter((policy) => policy.condition && matches(policy.condition, subject, now));
    if (matched.length === 0) continue;
    const kept = keeps.some((policy, i) =>
      policy.condition ? matches(policy.condition, subject, now) : keptByCount[i]?.has(key),
    );
    if (kept) continue;
    if (state.immutableTags && subject.tags.length > 0) continue;
    doomed.set(key, { subject, policies: matched.map((policy) => policy.name) });
  }

  // A kept index keeps what it lists, and through it what that lists in turn.
  let changed = true;
  while (changed) {
    changed = false;
    for (const entry of state.indexEntries) {
      const child = keyOf(entry.imageId, entry.child);
      if (doomed.has(child) && !doomed.has(keyOf(entry.imageId, entry.index))) {
        doomed.delete(child);
        changed = true;
      }
    }
  }

  // Depth below the top-level manifests: an index (depth 0) is deleted before what it lists.
  const parents = new Map<string, string[]>();
  for (const entry of state.indexEntries) {
    const child = keyOf(entry.imageId, entry.child);
    parents.set(child, [...(parents.get(child) ?? []), keyOf(entry.imageId, entry.index)]);
  }
  const depth = new Map<string, number>();
  const depthOf = (key: string, path: ReadonlySet<string>): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    const above = (parents.get(key) ?? []).filter((parent) => !path.has(parent));
    const within = new Set([...path, key]);
    const value = above.length === 0 ? 0 : 1 + Math.max(...above.map((parent) => depthOf(parent, within)));
    depth.set(key, value);
    return value;
  };
  return [...doomed.entries()]
    .sort(([a], [b]) => depthOf(a, new Set()) - depthOf(b, new Set()) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([, value]) => value);
}
