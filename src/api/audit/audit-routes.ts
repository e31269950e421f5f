import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { responseSchema } from '../schemas.js';
import { type AuditService, auditEntryView, auditQuery } from './audit-service.js';

const auditList = responseSchema(
  'AuditEntryList',
  z.object({ entries: z.array(auditEntryView), nextPageToken: z.string().optional() }),
);

export function auditOperations(audit: AuditService): ApiOperation[] {
  return [
    operation({
      id: 'listAuditEntries',
      method: 'GET',
      path: '/api/v1/audit/entries',
      tag: 'Audit',
      summary: 'Read the audit log, newest first (instance administrator only)',
      description:
        'Every change of permissions, projects, repositories, users, service accounts and keys, every delete, every sign-in and sign-in failure, and every policy change: who, from where, what, when and how it ended.',
      query: auditQuery,
      response: auditList,
      handle: async ({ caller, query }) => {
        const page = await audit.list(caller, query);
        return { entries: page.items, nextPageToken: page.nextPageToken };
      },
    }),
  ];
}
