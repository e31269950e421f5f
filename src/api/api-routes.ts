import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuthServices } from '../auth/auth-services.js';
import { PublicUrls } from '../auth/oauth/public-urls.js';
import type { CleanupService } from '../cleanup/cleanup-service.js';
import type { RateLimitsConfig, ServeConfig } from '../config/config.js';
import type { Maintenance } from '../gc/maintenance.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { RequestRateLimiter } from '../limits/request-limiter.js';
import type { OciServices } from '../oci/oci-routes.js';
import type { RegistryContext } from '../oci/registry-context.js';
import { PullPolicy } from '../policies/pull-policy.js';
import type { SettingsChangeListener } from '../policies/settings-changes.js';
import type { ScanService } from '../scan/scan-service.js';
import type { Route } from '../server/router.js';
import type { Webhooks } from '../webhooks/webhooks.js';
import { ApiAccess } from './access-checks.js';
import { adminOperations } from './admin/admin-routes.js';
import { AdminService } from './admin/admin-service.js';
import { auditOperations } from './audit/audit-routes.js';
import { AuditService } from './audit/audit-service.js';
import { IamPolicyService } from './iam/iam-policy-service.js';
import { iamOperations } from './iam/iam-routes.js';
import { imageCopyOperations } from './images/image-copy-routes.js';
import { ImageCopyService } from './images/image-copy-service.js';
import { imageOperations } from './images/image-routes.js';
import { ImageService } from './images/image-service.js';
import { ManifestDetailsReader } from './images/manifest-details.js';
import { ScanViews } from './images/scan-views.js';
import { vulnerabilityOperations } from './images/vulnerability-routes.js';
import { VulnerabilityService } from './images/vulnerability-service.js';
import { openApiDocument } from './openapi.js';
import { type ApiOperation, operation, toRoutes } from './operation.js';
import { organizationOperations } from './organizations/organization-routes.js';
import { OrganizationService } from './organizations/organization-service.js';
import { projectOperations } from './projects/project-routes.js';
import { ProjectService } from './projects/project-service.js';
import { rateLimitOperations } from './projects/rate-limit-routes.js';
import { RateLimitSettingsService } from './projects/rate-limit-service.js';
import { CleanupApi, cleanupOperations } from './repositories/cleanup-routes.js';
import { repositoryOperations } from './repositories/repository-routes.js';
import { RepositoryService } from './repositories/repository-service.js';
import { securityPolicyOperations } from './repositories/security-policy-routes.js';
import { SecurityPolicyService } from './repositories/security-policy-service.js';
import { serviceAccountOperations } from './service-accounts/service-account-routes.js';
import { ServiceAccountService } from './service-accounts/service-account-service.js';
import { InstanceUsageService, usageOperations } from './usage-routes.js';
import { userOperations } from './users/user-routes.js';
import { UserService } from './users/user-service.js';
import { webhookOperations } from './webhooks/webhook-routes.js';
import { WebhookService } from './webhooks/webhook-service.js';

export const apiVersion = 'v1';
export const openApiPath = '/api/v1/openapi.json';

/** The services behind the management API, built once: the API's operations and the web console call them. */
export interface ManagementServices {
  readonly access: ApiAccess;
  readonly organizations: OrganizationService;
  readonly projects: ProjectService;
  readonly repositories: RepositoryService;
  readonly images: ImageService;
  readonly imageCopies: ImageCopyService;
  readonly vulnerabilities: VulnerabilityService;
  readonly iam: IamPolicyService;
  readonly users: UserService;
  readonly serviceAccounts: ServiceAccountService;
  readonly cleanup: CleanupApi;
  readonly admin: AdminService;
  readonly usage: InstanceUsageService;
  readonly audit: AuditService;
  readonly webhooks: WebhookService;
  readonly rateLimits: RateLimitSettingsService;
  readonly securityPolicies: SecurityPolicyService;
  /** Judges pulls against security policies: the registry asks it before a manifest GET answers. */
  readonly pullPolicy: PullPolicy;
}

/** Settings of the instance the management services read, and where their changes are reported. */
export interface ManagementSettings {
  readonly rateLimits: RateLimitsConfig;
  /** Told of every rate limit override and security policy change (the audit log hooks in here). */
  readonly onSettingsChanged?: SettingsChangeListener;
}

export function createManagementServices(
  context: RegistryContext,
  auth: AuthServices,
  oci: OciServices,
  scans: ScanService,
  maintenance: Maintenance,
  cleanup: CleanupService,
  secrets: SecretBox,
  webhooks: Webhooks,
  settings: ManagementSettings,
): ManagementServices {
  const { metadata, clock, ids } = context;
  const onSettingsChanged = settings.onSettingsChanged ?? (() => {});
  const access = new ApiAccess(auth.access, metadata);
  const details = new ManifestDetailsReader(oci.manifests, metadata.content, context.blobs);
  const scanViews = new ScanViews(scans);
  const pullPolicy = new PullPolicy(metadata, auth.access, clock);
  const images = new ImageService(access, metadata, details, clock, scanViews, context.events, pullPolicy);
  return {
    access,
    organizations: new OrganizationService(access, metadata),
    projects: new ProjectService(access, metadata, clock),
    repositories: new RepositoryService(access, metadata, clock, ids, secrets),
    images,
    imageCopies: new ImageCopyService(access, oci),
    vulnerabilities: new VulnerabilityService(images, scans, scanViews),
    iam: new IamPolicyService(access, metadata),
    users: new UserService(access, metadata, auth.credentials, clock),
    serviceAccounts: new ServiceAccountService(access, metadata, clock),
    cleanup: new CleanupApi(access, metadata, cleanup),
    admin: new AdminService(access, maintenance),
    usage: new InstanceUsageService(access, metadata),
    audit: new AuditService(access, metadata, clock),
    webhooks: new WebhookService(access, metadata, webhooks.guard, clock, ids, () => webhooks.workers.wake()),
    rateLimits: new RateLimitSettingsService(access, metadata, settings.rateLimits, clock, onSettingsChanged),
    securityPolicies: new SecurityPolicyService(access, metadata, pullPolicy, clock, onSettingsChanged),
    pullPolicy,
  };
}

/** Every operation of the management API, bound to its services. */
export function managementOperations(services: ManagementServices): ApiOperation[] {
  return [
    ...organizationOperations(services.organizations),
    ...projectOperations(services.projects),
    ...repositoryOperations(services.repositories),
    ...cleanupOperations(services.cleanup),
    ...imageOperations(services.images),
    ...imageCopyOperations(services.imageCopies),
    ...vulnerabilityOperations(services.vulnerabilities),
    ...iamOperations(services.iam),
    ...userOperations(services.users),
    ...serviceAccountOperations(services.serviceAccounts),
    ...adminOperations(services.admin),
    ...usageOperations(services.usage),
    ...auditOperations(services.audit),
    ...webhookOperations(services.webhooks),
    ...rateLimitOperations(services.rateLimits),
    ...securityPolicyOperations(services.securityPolicies),
  ];
}

/** The management REST API under /api/v1/, with its OpenAPI document, as routes for the server. */
export function managementApiRoutes(
  services: ManagementServices,
  auth: AuthServices,
  config: Pick<ServeConfig, 'publicUrl' | 'tls'>,
  audit: AuditLog,
  limiter?: RequestRateLimiter,
): Route[] {
  const operations = managementOperations(services);
  let document: unknown;
  const openApi = operation({
    id: 'getOpenApiDocument',
    method: 'GET',
    path: openApiPath,
    tag: 'API',
    summary: 'This OpenAPI 3.1 document',
    public: true,
    response: z.record(z.string(), z.unknown()),
    handle: async () => {
      document ??= openApiDocument([...operations, openApi], apiVersion);
      return document as Record<string, unknown>;
    },
  });
  return toRoutes([openApi, ...operations], {
    credentials: auth.credentials,
    urls: PublicUrls.of(config),
    audit,
    limiter,
  });
}
