import { type ApiClient, allPages, pageSize, segment } from './api-client.js';

/**
 * The management API (`/api/v1/…`), typed. The shapes mirror the server's OpenAPI document
 * (`/api/v1/openapi.json`); each method is one operation.
 */

/** Storage a repository or project holds. */
export interface StorageUsage {
  /** The sizes of the distinct blobs and manifests it holds, added up. */
  readonly logicalBytes: number;
  /** The part of that nothing outside it holds: what deleting it would free. */
  readonly uniqueBytes: number;
}

export interface Project {
  readonly id: string;
  readonly organization: string;
  readonly displayName: string;
  readonly description: string;
  /** Bytes; absent when unlimited. */
  readonly storageQuota?: number;
  readonly usage: StorageUsage;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewProject {
  readonly projectId: string;
  readonly organization?: string;
  readonly displayName?: string;
  readonly description?: string;
}

export interface Repository {
  readonly project: string;
  readonly id: string;
  /** PROJECT/REPOSITORY. */
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly scanning: boolean;
  readonly immutableTags: boolean;
  readonly cleanupPolicies: CleanupPolicy[];
  readonly cleanupDryRun: boolean;
  /** Set for a remote repository: a pull-through cache of an upstream registry. */
  readonly remote?: RemoteSettings;
  readonly usage: StorageUsage;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A remote repository's upstream, as the API shows it: the password never comes back. */
export interface RemoteSettings {
  readonly url: string;
  readonly username?: string;
  readonly hasPassword: boolean;
  readonly prefix: string;
  readonly ttl: string;
}

export interface NewRemote {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly prefix?: string;
  readonly ttl?: string;
}

export interface RemoteChanges {
  readonly url?: string;
  /** null removes the credentials. */
  readonly username?: string | null;
  readonly password?: string | null;
  readonly prefix?: string;
  readonly ttl?: string;
}

export interface ProjectChanges {
  readonly displayName?: string;
  readonly description?: string;
  /** Bytes; null removes the quota (the administrator only). */
  readonly storageQuota?: number | null;
}

/** A cleanup policy, as in a policy file (see the README for the format). */
export interface CleanupPolicy {
  readonly name: string;
  readonly action: { readonly type: 'Delete' | 'Keep' };
  readonly condition?: {
    readonly tagState?: string;
    readonly tagPrefixes?: string[];
    readonly imageNamePrefixes?: string[];
    readonly olderThan?: string;
    readonly newerThan?: string;
  };
  readonly mostRecentVersions?: { readonly keepCount: number; readonly imageNamePrefixes?: string[] };
}

export interface CleanupRun {
  readonly project: string;
  readonly repository: string;
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly deleted: number;
  readonly freedBytes: number;
  readonly items: {
    readonly image: string;
    readonly digest: string;
    readonly tags: string[];
    readonly policies: string[];
    readonly outcome: 'deleted' | 'would-delete' | 'kept';
  }[];
}

export interface InstanceUsage {
  readonly logicalBytes: number;
  readonly storedBytes: number;
  readonly digests: number;
  readonly projects: {
    readonly project: string;
    readonly storageQuota?: number;
    readonly usage: StorageUsage;
  }[];
}

export interface NewRepository {
  readonly repositoryId?: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly scanning?: boolean;
  readonly immutableTags?: boolean;
  readonly remote?: NewRemote;
}

export type RepositoryChanges = Partial<
  Pick<
    Repository,
    'displayName' | 'description' | 'scanning' | 'immutableTags' | 'cleanupPolicies' | 'cleanupDryRun'
  >
> & { readonly remote?: RemoteChanges };

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly osVersion?: string;
}

export interface DigestSummary {
  readonly digest: string;
  readonly mediaType: string;
  readonly tags: string[];
  /** Bytes of the manifest and everything it references, each counted once. */
  readonly size: number;
  readonly createdAt: string;
  /** For a platform image: its platform, as the index listing it names it. */
  readonly platform?: Platform;
  /** For a platform image: the indexes of the image that list it. */
  readonly indexes?: string[];
  readonly scan?: Scan;
}

export interface Image {
  /** The name inside the repository, e.g. `backend/api`. */
  readonly name: string;
  /** PROJECT/REPOSITORY/IMAGE. */
  readonly fullName: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly digests: DigestSummary[];
}

export interface Digest {
  readonly digest: string;
  readonly image: string;
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly tags: string[];
  /** Bytes of the manifest and everything it references, each counted once. */
  readonly size: number;
  readonly createdAt: string;
  readonly platforms?: Platform[];
  readonly subject?: string;
  readonly scan?: Scan;
  /** Present when a security policy of the repository can block pulls. */
  readonly pullPolicy?: PullPolicyVerdict;
}

/** A project's request rate limits: what it overrides and what applies (`600/min`, `unlimited`). */
export interface ProjectRateLimits {
  readonly project: string;
  readonly enabled: boolean;
  readonly overrides: Partial<Record<RateLimitKind, string>>;
  readonly effective: Record<RateLimitKind, string>;
}

export type RateLimitKind = 'pull' | 'push' | 'repositoryPull' | 'repositoryPush';

/** A rate such as `600/min`; null returns to the instance default. */
export type RateLimitChanges = Partial<Record<RateLimitKind, string | null>>;

export interface AllowedVulnerability {
  readonly id: string;
  readonly expires?: string;
}

/** Security policy settings made at one level (project or repository); what is left out is inherited. */
export interface SecurityPolicySettings {
  readonly blockSeverity?: string;
  readonly blockUnscanned?: boolean;
  readonly allowedVulnerabilities?: AllowedVulnerability[];
  readonly exemptPrincipals?: string[];
}

/** Fields set replace the setting; null returns it to what is inherited. */
export interface SecurityPolicyChanges {
  readonly blockSeverity?: string | null;
  readonly blockUnscanned?: boolean | null;
  readonly allowedVulnerabilities?: AllowedVulnerability[] | null;
  readonly exemptPrincipals?: string[] | null;
}

export interface ProjectSecurityPolicy {
  readonly project: string;
  readonly policy: SecurityPolicySettings;
}

export interface RepositorySecurityPolicy {
  readonly project: string;
  readonly repository: string;
  readonly policy: SecurityPolicySettings;
  readonly inherited: SecurityPolicySettings;
  readonly effective: SecurityPolicySettings & { readonly ownersExempt: true };
}

/** Whether a digest may be pulled under its repository's security policy (owners and exempt principals aside). */
export interface PullPolicyVerdict {
  readonly pullable: boolean;
  readonly reason?: string;
}

export const severities = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof severities)[number];

export type ScanStatus =
  | 'not_scanned'
  | 'queued'
  | 'scanning'
  | 'succeeded'
  | 'failed'
  | 'unsupported'
  | 'scanner_unavailable';

export interface ScanState {
  readonly status: ScanStatus;
  readonly reason?: string;
  readonly summary?: Record<Severity, number>;
  readonly scannerVersion?: string;
  readonly scannedAt?: string;
}

/** The vulnerability scan of a digest; for an index, one per platform image as well. */
export interface Scan extends ScanState {
  readonly platforms?: (ScanState & { readonly digest: string; readonly platform?: Platform })[];
}

export interface Finding {
  readonly vulnerabilityId: string;
  readonly severity: Severity;
  readonly pkgName: string;
  readonly pkgId?: string;
  readonly installedVersion: string;
  readonly fixedVersion?: string;
  readonly title?: string;
  readonly description?: string;
  readonly references: string[];
  readonly primaryUrl?: string;
  readonly target: string;
  readonly class?: string;
  readonly type?: string;
  readonly digest: string;
  readonly platform?: Platform;
}

export interface VulnerabilityReport {
  readonly digest: string;
  readonly image: string;
  readonly scan: Scan;
  /** Worst first. */
  readonly findings: Finding[];
}

export interface Tag {
  readonly name: string;
  readonly digest: string;
  readonly updatedAt: string;
}

export interface PolicyBinding {
  readonly role: string;
  readonly members: string[];
}

export interface Policy {
  readonly resource: string;
  readonly bindings: PolicyBinding[];
}

export interface BindingChange {
  readonly member: string;
  readonly role: string;
}

/** A garbage collection or integrity check run, as `/api/v1/admin/gc` and `/api/v1/admin/verify` answer. */
export interface MaintenanceRun {
  readonly id: string;
  readonly kind: 'gc' | 'verify';
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly options: Record<string, unknown>;
  readonly progress?: { checked: number; total: number; bytesChecked: number; bytesTotal: number };
  readonly report?: Record<string, unknown>;
  readonly error?: string;
  readonly requestedAt: string;
  readonly finishedAt?: string;
}

export interface User {
  readonly login: string;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly createdAt: string;
}

/** One entry of the audit log. */
export interface AuditEntry {
  readonly id: string;
  readonly time: string;
  readonly actor: string;
  readonly client: string;
  readonly action: string;
  readonly resource: string;
  readonly outcome: 'success' | 'denied' | 'failed';
  readonly details?: Record<string, unknown>;
}

/** What to read from the audit log; `since` is a duration back from now (`24h`) or a time. */
export interface AuditQuery {
  readonly since?: string;
  readonly actor?: string;
  readonly resource?: string;
  readonly action?: string;
}

/** A password reset: `password` only when the server generated it (shown this once). */
export interface PasswordReset {
  readonly user: User;
  readonly password?: string;
}

export interface ServiceAccount {
  readonly email: string;
  readonly accountId: string;
  readonly project: string;
  readonly displayName: string;
  readonly createdAt: string;
}

export interface ServiceAccountKey {
  readonly id: string;
  readonly serviceAccount: string;
  readonly disabled: boolean;
  readonly createdAt: string;
}

export interface KeyFile {
  readonly type: 'service_account';
  readonly project_id?: string;
  readonly client_email: string;
  readonly private_key_id: string;
  readonly private_key: string;
  readonly token_uri?: string;
}

export interface CreatedServiceAccountKey {
  readonly key: ServiceAccountKey;
  readonly keyFile: KeyFile;
}

/** Where an IAM policy lives. */
export type PolicyResource =
  | { readonly kind: 'project'; readonly project: string }
  | { readonly kind: 'repository'; readonly project: string; readonly repository: string };

export class ManagementApi {
  constructor(readonly client: ApiClient) {}

  /** Reads every page of a list operation. */
  private all<K extends string, T>(path: string, field: K): Promise<T[]> {
    return allPages(this.client, path, field);
  }

  // Projects

  listProjects(): Promise<Project[]> {
    return this.all('/projects', 'projects');
  }

  createProject(input: NewProject): Promise<Project> {
    return this.client.call('POST', '/projects', { body: input });
  }

  getProject(project: string): Promise<Project> {
    return this.client.call('GET', `/projects/${segment(project)}`);
  }

  updateProject(project: string, changes: ProjectChanges): Promise<Project> {
    return this.client.call('PATCH', `/projects/${segment(project)}`, { body: changes });
  }

  deleteProject(project: string): Promise<void> {
    return this.client.call('DELETE', `/projects/${segment(project)}`);
  }

  getProjectRateLimits(project: string): Promise<ProjectRateLimits> {
    return this.client.call('GET', `/projects/${segment(project)}/rate-limits`);
  }

  updateProjectRateLimits(project: string, changes: RateLimitChanges): Promise<ProjectRateLimits> {
    return this.client.call('PATCH', `/projects/${segment(project)}/rate-limits`, { body: changes });
  }

  updateProjectSecurityPolicy(
    project: string,
    changes: SecurityPolicyChanges,
  ): Promise<ProjectSecurityPolicy> {
    return this.client.call('PATCH', `/projects/${segment(project)}/security-policy`, { body: changes });
  }

  getInstanceUsage(): Promise<InstanceUsage> {
    return this.client.call('GET', '/usage');
  }

  // Repositories

  private repositoryPath(project: string, repository?: string): string {
    const base = `/projects/${segment(project)}/repositories`;
    return repository === undefined ? base : `${base}/${segment(repository)}`;
  }

  listRepositories(project: string): Promise<Repository[]> {
    return this.all(this.repositoryPath(project), 'repositories');
  }

  createRepository(project: string, input: NewRepository): Promise<Repository> {
    return this.client.call('POST', this.repositoryPath(project), { body: input });
  }

  getRepository(project: string, repository: string): Promise<Repository> {
    return this.client.call('GET', this.repositoryPath(project, repository));
  }

  updateRepository(project: string, repository: string, changes: RepositoryChanges): Promise<Repository> {
    return this.client.call('PATCH', this.repositoryPath(project, repository), { body: changes });
  }

  getRepositorySecurityPolicy(project: string, repository: string): Promise<RepositorySecurityPolicy> {
    return this.client.call('GET', `${this.repositoryPath(project, repository)}/security-policy`);
  }

  updateRepositorySecurityPolicy(
    project: string,
    repository: string,
    changes: SecurityPolicyChanges,
  ): Promise<RepositorySecurityPolicy> {
    return this.client.call('PATCH', `${this.repositoryPath(project, repository)}/security-policy`, {
      body: changes,
    });
  }

  deleteRepository(project: string, repository: string): Promise<void> {
    return this.client.call('DELETE', this.repositoryPath(project, repository));
  }

  /** `dryRun` undefined: the repository's own setting. */
  runCleanup(project: string, repository: string, dryRun: boolean | undefined): Promise<CleanupRun> {
    return this.client.call('POST', `${this.repositoryPath(project, repository)}/cleanup`, {
      body: dryRun === undefined ? {} : { dryRun },
    });
  }

  // Images, digests and tags

  private imagePath(project: string, repository: string, image?: string): string {
    const base = `${this.repositoryPath(project, repository)}/images`;
    return image === undefined ? base : `${base}/${segment(image)}`;
  }

  listImages(project: string, repository: string): Promise<Image[]> {
    return this.all(this.imagePath(project, repository), 'images');
  }

  getImage(project: string, repository: string, image: string): Promise<Image> {
    return this.client.call('GET', this.imagePath(project, repository, image));
  }

  deleteImage(project: string, repository: string, image: string): Promise<void> {
    return this.client.call('DELETE', this.imagePath(project, repository, image));
  }

  listDigests(project: string, repository: string, image: string): Promise<Digest[]> {
    return this.all(`${this.imagePath(project, repository, image)}/digests`, 'digests');
  }

  getDigest(project: string, repository: string, image: string, digest: string): Promise<Digest> {
    return this.client.call(
      'GET',
      `${this.imagePath(project, repository, image)}/digests/${segment(digest)}`,
    );
  }

  deleteDigest(project: string, repository: string, image: string, digest: string): Promise<void> {
    return this.client.call(
      'DELETE',
      `${this.imagePath(project, repository, image)}/digests/${segment(digest)}`,
    );
  }

  vulnerabilities(
    project: string,
    repository: string,
    image: string,
    digest: string,
    severities?: readonly Severity[],
  ): Promise<VulnerabilityReport> {
    return this.client.call(
      'GET',
      `${this.imagePath(project, repository, image)}/digests/${segment(digest)}/vulnerabilities`,
      {
        query: { severity: severities && severities.length > 0 ? severities.join(',') : undefined },
      },
    );
  }

  scan(project: string, repository: string, image: string, digest: string): Promise<Scan> {
    return this.client.call(
      'POST',
      `${this.imagePath(project, repository, image)}/digests/${segment(digest)}/scan`,
    );
  }

  listTags(project: string, repository: string, image: string): Promise<Tag[]> {
    return this.all(`${this.imagePath(project, repository, image)}/tags`, 'tags');
  }

  setTag(project: string, repository: string, image: string, tag: string, digest: string): Promise<Tag> {
    return this.client.call('PUT', `${this.imagePath(project, repository, image)}/tags/${segment(tag)}`, {
      body: { digest },
    });
  }

  deleteTag(project: string, repository: string, image: string, tag: string): Promise<void> {
    return this.client.call('DELETE', `${this.imagePath(project, repository, image)}/tags/${segment(tag)}`);
  }

  // IAM

  private policyPath(resource: PolicyResource): string {
    return `${resource.kind === 'project' ? `/projects/${segment(resource.project)}` : this.repositoryPath(resource.project, resource.repository)}/iamPolicy`;
  }

  getIamPolicy(resource: PolicyResource): Promise<Policy> {
    return this.client.call('GET', this.policyPath(resource));
  }

  addIamBinding(resource: PolicyResource, binding: BindingChange): Promise<Policy> {
    return this.client.call('POST', `${this.policyPath(resource)}/bindings`, { body: binding });
  }

  removeIamBinding(resource: PolicyResource, binding: BindingChange): Promise<Policy> {
    return this.client.call('DELETE', `${this.policyPath(resource)}/bindings`, {
      query: { member: binding.member, role: binding.role },
    });
  }

  // Users

  startMaintenance(
    kind: 'gc' | 'verify',
    options: { dryRun: boolean } | { repair: boolean },
  ): Promise<MaintenanceRun> {
    return this.client.call('POST', `/admin/${kind}`, { body: options });
  }

  getMaintenance(kind: 'gc' | 'verify', run: string): Promise<MaintenanceRun> {
    return this.client.call('GET', `/admin/${kind}/${segment(run)}`);
  }

  /** The newest `limit` entries of the audit log that match, newest first. */
  async listAuditEntries(query: AuditQuery, limit: number): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.client.call<{ entries?: AuditEntry[]; nextPageToken?: string }>(
        'GET',
        '/audit/entries',
        { query: { ...query, pageSize: Math.min(pageSize, limit - entries.length), pageToken } },
      );
      entries.push(...(page.entries ?? []));
      pageToken = page.nextPageToken;
    } while (pageToken && entries.length < limit);
    return entries;
  }

  listUsers(): Promise<User[]> {
    return this.all('/users', 'users');
  }

  createUser(login: string, password: string): Promise<User> {
    return this.client.call('POST', '/users', { body: { login, password } });
  }

  updateUser(login: string, changes: { disabled: boolean }): Promise<User> {
    return this.client.call('PATCH', `/users/${segment(login)}`, { body: changes });
  }

  deleteUser(login: string): Promise<void> {
    return this.client.call('DELETE', `/users/${segment(login)}`);
  }

  /** Without `password`, the server generates one and returns it. */
  resetUserPassword(login: string, password?: string): Promise<PasswordReset> {
    return this.client.call('PUT', `/users/${segment(login)}/password`, {
      body: password === undefined ? {} : { password },
    });
  }

  /** The signed-in user's own password; the sign-in this client uses stays valid. */
  changeOwnPassword(currentPassword: string, newPassword: string): Promise<void> {
    return this.client.call('PUT', '/account/password', { body: { currentPassword, newPassword } });
  }

  // Service accounts and keys

  private accountPath(project: string, account?: string): string {
    const base = `/projects/${segment(project)}/serviceAccounts`;
    return account === undefined ? base : `${base}/${segment(account)}`;
  }

  listServiceAccounts(project: string): Promise<ServiceAccount[]> {
    return this.all(this.accountPath(project), 'serviceAccounts');
  }

  createServiceAccount(project: string, accountId: string, displayName?: string): Promise<ServiceAccount> {
    return this.client.call('POST', this.accountPath(project), {
      body: displayName === undefined ? { accountId } : { accountId, displayName },
    });
  }

  deleteServiceAccount(project: string, account: string): Promise<void> {
    return this.client.call('DELETE', this.accountPath(project, account));
  }

  listServiceAccountKeys(project: string, account: string): Promise<ServiceAccountKey[]> {
    return this.all(`${this.accountPath(project, account)}/keys`, 'keys');
  }

  createServiceAccountKey(project: string, account: string): Promise<CreatedServiceAccountKey> {
    return this.client.call('POST', `${this.accountPath(project, account)}/keys`);
  }

  deleteServiceAccountKey(project: string, account: string, key: string): Promise<void> {
    return this.client.call('DELETE', `${this.accountPath(project, account)}/keys/${segment(key)}`);
  }
}
