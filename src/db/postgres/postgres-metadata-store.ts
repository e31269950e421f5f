import type { AuditStore } from '../audit.js';
import type { CleanupStore } from '../cleanup.js';
import type { IamStore, RevocationStore, ServiceAccountStore, UserStore } from '../identity.js';
import type { LifecycleStore } from '../lifecycle.js';
import type { CatalogStore, ContentStore, MetadataStore, UploadStore } from '../metadata.js';
import type { OAuthStore } from '../oauth.js';
import type { PolicyStore } from '../policies.js';
import type { RemoteStore } from '../remotes.js';
import type { ImageStore, OrganizationStore, ProjectStore, RepositoryStore } from '../resources.js';
import type { ScanStore } from '../scans.js';
import type { UsageStore } from '../usage.js';
import type { WebhookStore } from '../webhooks.js';
import { PostgresAuditStore } from './audit-store.js';
import { PostgresCleanupStore } from './cleanup-store.js';
import { PostgresCatalogStore, PostgresContentStore, PostgresUploadStore } from './content-stores.js';
import { openPostgres, type PostgresDatabase, type PostgresOptions } from './database.js';
import {
  PostgresIamStore,
  PostgresRevocationStore,
  PostgresServiceAccountStore,
  PostgresUserStore,
} from './identity-stores.js';
import { PostgresImageStore } from './image-store.js';
import { PostgresLifecycleStore } from './lifecycle-store.js';
import { PostgresOAuthStore } from './oauth-store.js';
import { PostgresPolicyStore } from './policy-store.js';
import { PostgresRemoteStore } from './remote-store.js';
import {
  PostgresOrganizationStore,
  PostgresProjectStore,
  PostgresRepositoryStore,
} from './resource-stores.js';
import { PostgresScanStore } from './scan-store.js';
import { PostgresUsageStore } from './usage-store.js';
import { PostgresWebhookStore } from './webhook-store.js';

/** The metadata store on PostgreSQL: what several instances of the registry share. */
export class PostgresMetadataStore implements MetadataStore {
  readonly catalog: CatalogStore;
  readonly content: ContentStore;
  readonly uploads: UploadStore;
  readonly users: UserStore;
  readonly serviceAccounts: ServiceAccountStore;
  readonly iam: IamStore;
  readonly revocations: RevocationStore;
  readonly oauth: OAuthStore;
  readonly organizations: OrganizationStore;
  readonly projects: ProjectStore;
  readonly repositories: RepositoryStore;
  readonly images: ImageStore;
  readonly scans: ScanStore;
  readonly lifecycle: LifecycleStore;
  readonly usage: UsageStore;
  readonly cleanup: CleanupStore;
  readonly audit: AuditStore;
  readonly remotes: RemoteStore;
  readonly policies: PolicyStore;
  readonly webhooks: WebhookStore;

  private constructor(private readonly db: PostgresDatabase) {
    this.catalog = new PostgresCatalogStore(db);
    this.content = new PostgresContentStore(db);
    this.uploads = new PostgresUploadStore(db);
    this.users = new PostgresUserStore(db);
    this.serviceAccounts = new PostgresServiceAccountStore(db);
    this.iam = new PostgresIamStore(db);
    this.revocations = new PostgresRevocationStore(db);
    this.oauth = new PostgresOAuthStore(db);
    this.organizations = new PostgresOrganizationStore(db);
    this.projects = new PostgresProjectStore(db);
    this.repositories = new PostgresRepositoryStore(db);
    this.images = new PostgresImageStore(db);
    this.scans = new PostgresScanStore(db);
    this.lifecycle = new PostgresLifecycleStore(db);
    this.usage = new PostgresUsageStore(db);
    this.cleanup = new PostgresCleanupStore(db);
    this.audit = new PostgresAuditStore(db);
    this.remotes = new PostgresRemoteStore(db);
    this.policies = new PostgresPolicyStore(db);
    this.webhooks = new PostgresWebhookStore(db);
  }

  /** Connects, and migrates the schema unless another instance has already. */
  static async open(options: PostgresOptions): Promise<PostgresMetadataStore> {
    return new PostgresMetadataStore(await openPostgres(options));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
