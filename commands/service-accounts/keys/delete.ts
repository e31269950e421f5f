import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../../src/cli/base-command.js';
import { renderMessage } from '../../../src/cli/render.js';
import { accountTarget, deleteKey, type KeyDeleted } from '../../../src/cli/resources/service-accounts.js';

export default class ServiceAccountsKeysDelete extends MistriveCommand {
  static override summary = 'Delete a service-account key: it stops working at once.';
  static override examples = [
    '<%= config.bin %> service-accounts keys delete 3f9a… --service-account ci@my-project.iam.mistrive',
  ];
  static override args = { key: Args.string({ description: 'the key ID', required: true }) };
  static override flags = {
    'service-account': Flags.string({
      description: 'the email, or the account ID with --project',
      required: true,
    }),
    project: commonFlags.project,
    yes: commonFlags.yes,
    registry: commonFlags.registry,
  };

  async run(): Promise<KeyDeleted> {
    const { args, flags } = await this.parse(ServiceAccountsKeysDelete);
    const target = accountTarget(this.context, flags['service-account'], flags.project);
    await this.confirmDeletion(`key ${args.key} of ${flags['service-account']}`, flags.yes);
    const result = await deleteKey(this.context, target, args.key, flags.registry);
    this.print(
      renderMessage(
        `Deleted key ${result.key} of ${result.serviceAccount}.`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
