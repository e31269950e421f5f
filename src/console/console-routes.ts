import type { ManagementServices } from '../api/api-routes.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { PublicUrls } from '../auth/oauth/public-urls.js';
import type { WebSessions } from '../auth/oauth/web-sessions.js';
import type { Route } from '../server/router.js';
import { assetRoutes } from './assets.js';
import { toRoutes } from './console-page.js';
import { digestPages } from './pages/digest.js';
import { imagePages } from './pages/image.js';
import { permissionPages } from './pages/permissions.js';
import { projectPages } from './pages/project.js';
import { projectListPages } from './pages/projects.js';
import { repositoryPages } from './pages/repository.js';
import { serviceAccountPages } from './pages/service-accounts.js';
import { userPages } from './pages/users.js';

export interface ConsoleDependencies {
  /** The management API's services: pages ask them, and through them the one IAM evaluator. */
  readonly services: ManagementServices;
  /** The web session of the sign-in pages, with its CSRF token. */
  readonly sessions: WebSessions;
  readonly urls: PublicUrls;
  readonly audit: AuditLog;
}

/** The web console: server-rendered pages on the registry's own origin, and their stylesheet and script. */
export function consoleRoutes({ services, sessions, urls, audit }: ConsoleDependencies): Route[] {
  const pages = [
    ...projectListPages(services),
    ...permissionPages(services),
    ...serviceAccountPages(services),
    ...repositoryPages(services),
    ...digestPages(services),
    ...imagePages(services),
    ...projectPages(services),
    ...userPages(services),
  ];
  return [...assetRoutes, ...toRoutes(pages, { sessions, urls, audit })];
}
