import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { createServiceAccount } from '../../src/cli/resources/service-accounts.js';
import type { ServiceAccount } from '../../src/client/management-api.js';

export default class ServiceAccountsCreate extends MistriveCommand {
  static override summary = 'Create a service account in a project.';
  static override description =
    'Its email is ID@PROJECT.iam.mistrive; grant it roles with `repos add-iam-policy-binding … --member serviceAccount:EMAIL` and give CI a key (`service-accounts keys create`). Needs Artifact Store Owner on the project.';

  static override examples = [
    '<%= config.bin %> service-accounts create ci --project my-project',
    '<%= config.bin %> service-accounts create deployer --project my-project --display-name "Deploy pipeline"',
  ];

  static override args = {
    id: Args.string({ description: 'account ID: the part of the email before the @', required: true }),
  };
  static override flags = {
    project: commonFlags.project,
    'display-name': Flags.string({ description: 'a name for people' }),
    registry: commonFlags.registry,
  };

  async run(): Promise<ServiceAccount> {
    const { args, flags } = await this.parse(ServiceAccountsCreate);
    const result = await createServiceAccount(this.context, {
      id: args.id,
      project: this.context.project(flags.project),
      displayName: flags['display-name'],
      registry: flags.registry,
    });
    this.print(renderMessage(`Created service account ${result.email}.`, this.context.io.target, 'success'));
    return result;
  }
}
