import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { type AdminService, gcRequest, runView, verifyRequest } from './admin-service.js';

const runParams = z.object({ run: z.string().min(1).max(64).describe('The run ID') });

export function adminOperations(admin: AdminService): ApiOperation[] {
  return [
    operation({
      id: 'startGarbageCollection',
      method: 'POST',
      path: '/api/v1/admin/gc',
      tag: 'Administration',
      summary: 'Collect garbage now (instance administrator only)',
      description:
        'Starts a collection and answers at once with the run; poll it until its status is no longer `running`.',
      body: gcRequest,
      status: 202,
      response: runView,
      handle: ({ caller, body }) => admin.collect(caller, body),
    }),
    operation({
      id: 'getGarbageCollection',
      method: 'GET',
      path: '/api/v1/admin/gc/{run}',
      tag: 'Administration',
      summary: 'A garbage collection run and its report (instance administrator only)',
      params: runParams,
      response: runView,
      handle: ({ caller, params }) => admin.run(caller, 'gc', params.run),
    }),
    operation({
      id: 'startIntegrityCheck',
      method: 'POST',
      path: '/api/v1/admin/verify',
      tag: 'Administration',
      summary: 'Re-hash every stored blob (instance administrator only)',
      description:
        'Starts a check and answers at once with the run; its progress and report are read from it.',
      body: verifyRequest,
      status: 202,
      response: runView,
      handle: ({ caller, body }) => admin.verify(caller, body),
    }),
    operation({
      id: 'getIntegrityCheck',
      method: 'GET',
      path: '/api/v1/admin/verify/{run}',
      tag: 'Administration',
      summary: 'An integrity check, its progress and its report (instance administrator only)',
      params: runParams,
      response: runView,
      handle: ({ caller, params }) => admin.run(caller, 'verify', params.run),
    }),
  ];
}
