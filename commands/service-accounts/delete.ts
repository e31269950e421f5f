import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import {
  accountTarget,
  deleteServiceAccount,
  type ServiceAccountDeleted,
} from '../../src/cli/resources/service-accounts.js';

export default class ServiceAccountsDelete extends MistriveCommand {
  static override summary = 'Delete a service account, its keys and every role granted to it.';
  static override description = 'Asks first on a terminal, unless --yes.';
  static override examples = [
    '<%= config.bin %> service-accounts delete ci@my-project.iam.mistrive',
    '<%= config.bin %> service-accounts delete ci --project my-project --yes',
  ];

  static override args = {
    account: Args.string({ description: 'the email, or the account ID with --project', required: true }),
  };
  static override flags = {
    project: commonFlags.project,
    yes: commonFlags.yes,
    registry: commonFlags.registry,
  };

  async run(): Promise<ServiceAccountDeleted> {
    const { args, flags } = await this.parse(ServiceAccountsDelete);
    const target = accountTarget(this.context, args.account, flags.project);
    await this.confirmDeletion(`service account ${args.account} and its keys`, flags.yes);
    const result = await deleteServiceAccount(this.context, target, flags.registry);
    this.print(
      renderMessage(`Deleted service account ${result.serviceAccount}.`, this.context.io.target, 'success'),
    );
    return result;
  }
}
