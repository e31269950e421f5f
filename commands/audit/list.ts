import { Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { type AuditList, listAuditEntries } from '../../src/cli/resources/audit.js';
import { auditTable } from '../../src/cli/views.js';

export default class AuditListCommand extends MistriveCommand {
  static override summary = 'Show the audit log, newest first (instance administrator only).';
  static override description =
    'Every change of permissions, projects, repositories, users, service accounts and keys, every delete, every sign-in and sign-in failure, and every policy change: when, who, from which address, what, on what, and how it ended (success, denied, failed).';
  static override examples = [
    '<%= config.bin %> audit list --since 24h',
    '<%= config.bin %> audit list --actor user:bob@example.com --action deleteDigest',
    '<%= config.bin %> audit list --resource projects/my-project --since 2026-01-31T00:00:00Z --json',
  ];

  static override flags = {
    since: Flags.string({
      description: 'only entries this recent: a duration (30m, 24h, 7d) or a time (RFC 3339)',
    }),
    actor: Flags.string({ description: 'only what this principal did (user:EMAIL, serviceAccount:EMAIL)' }),
    resource: Flags.string({
      description:
        'only entries about this resource and what is below it (projects/P, projects/P/repositories/R)',
    }),
    action: Flags.string({ description: 'only this action (createProject, signIn, deleteDigest…)' }),
    limit: Flags.integer({ description: 'at most this many entries', default: 100, min: 1, max: 100_000 }),
    registry: commonFlags.registry,
  };

  async run(): Promise<AuditList> {
    const { flags } = await this.parse(AuditListCommand);
    const result = await listAuditEntries(
      this.context,
      { since: flags.since, actor: flags.actor, resource: flags.resource, action: flags.action },
      flags.limit,
      flags.registry,
    );
    this.print(auditTable(result.entries, this.context.io.target));
    return result;
  }
}
