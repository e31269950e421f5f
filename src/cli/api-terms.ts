/**
 * The management API names what it refuses in its own terms (`invalid path parameter "tag"`,
 * `invalid field "projectId"`). The CLI says it in the words its commands use: `invalid tag`,
 * `invalid project ID`.
 */

const cliNames: Record<string, string> = {
  project: 'project ID',
  projectId: 'project ID',
  repository: 'repository ID',
  repositoryId: 'repository ID',
  image: 'image name',
  tag: 'tag',
  digest: 'digest',
  account: 'service account',
  accountId: 'service account ID',
  key: 'key ID',
  login: 'login',
  organization: 'organization',
  displayName: 'display name',
  member: 'member',
  role: 'role',
};

/** `someField` → `some field`, for names the table above does not know. */
function words(name: string): string {
  return name
    .replace(/Id$/, ' ID')
    .replace(/([a-z])([A-Z])/g, (_, lower: string, upper: string) => `${lower} ${upper.toLowerCase()}`);
}

/**
 * Rewrites an API validation message in the CLI's terms; other messages are returned as they are.
 * A dotted path (`cleanupPolicies.0.condition.olderThan`) points into a file the person wrote, so
 * it is kept whole: it says which entry to fix.
 */
export function inCliTerms(message: string): string {
  return message.replace(
    /^invalid (?:path parameter|query parameter|field) "([^".]+)"/,
    (_, name: string) => `invalid ${cliNames[name] ?? words(name)}`,
  );
}
