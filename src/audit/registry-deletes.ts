import { type Route, wrapHandlers } from '../server/router.js';
import { type AuditLog, outcomeOfError, reasonOf } from './audit-log.js';

/** `PROJECT/REPOSITORY/IMAGE` as the management API names it: `projects/P/repositories/R/images/IMAGE`. */
export function imageResource(name: string): string {
  const [project = '', repository = '', ...image] = name.split('/');
  return `projects/${project}/repositories/${repository}/images/${image.join('/')}`;
}

/** A delete through the distribution API, named as the management API's operation of the same effect. */
function deleteOf(params: Readonly<Record<string, string>>): { action: string; resource: string } {
  const image = imageResource(params.name ?? '');
  if (params.reference !== undefined) {
    return params.reference.includes(':')
      ? { action: 'deleteDigest', resource: `${image}/digests/${params.reference}` }
      : { action: 'deleteTag', resource: `${image}/tags/${params.reference}` };
  }
  return { action: 'deleteBlob', resource: `${image}/blobs/${params.digest ?? ''}` };
}

/**
 * Records every delete of the distribution API (manifests by digest, tags, blobs), refused or not.
 * Sits outside the registry guard, so that a delete refused for lack of rights is recorded too.
 */
export function auditRegistryDeletes(routes: readonly Route[], audit: AuditLog): Route[] {
  return wrapHandlers(routes, (handler, operation) => {
    if (operation.action !== 'delete') return handler;
    return async (context) => {
      const { action, resource } = deleteOf(context.params);
      try {
        await handler(context);
      } catch (error) {
        await audit.recordRequest(context.req, {
          action,
          resource,
          outcome: outcomeOfError(error),
          details: { reason: reasonOf(error) },
        });
        throw error;
      }
      await audit.recordRequest(context.req, { action, resource, outcome: 'success' });
    };
  });
}
