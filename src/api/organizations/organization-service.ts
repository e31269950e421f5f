import { z } from 'zod';
import type { MetadataStore } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import type { ApiAccess } from '../access-checks.js';
import { iso, responseSchema, timestamp } from '../schemas.js';

export const organizationView = responseSchema(
  'Organization',
  z.object({ id: z.string(), displayName: z.string(), createdAt: timestamp }),
);

export type OrganizationView = z.input<typeof organizationView>;

export class OrganizationService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
  ) {}

  /** An organization its members, and members of anything inside it, can see. */
  async get(caller: Caller, id: string): Promise<OrganizationView> {
    await this.access.organization(caller, id, 'see');
    const organization = await this.metadata.organizations.find(id);
    if (!organization) throw new RegistryError('NOT_FOUND', `organization ${id} not found`);
    return {
      id: organization.id,
      displayName: organization.displayName,
      createdAt: iso(organization.createdAt),
    };
  }
}
