import { Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../../src/cli/base-command.js';
import { accountTarget, type KeyList, listKeys } from '../../../src/cli/resources/service-accounts.js';
import { keyTable } from '../../../src/cli/views.js';

export default class ServiceAccountsKeysList extends MistriveCommand {
  static override summary = 'List the keys of a service account.';
  static override examples = [
    '<%= config.bin %> service-accounts keys list --service-account ci@my-project.iam.mistrive',
  ];
  static override flags = {
    'service-account': Flags.string({
      description: 'the email, or the account ID with --project',
      required: true,
    }),
    project: commonFlags.project,
    registry: commonFlags.registry,
  };

  async run(): Promise<KeyList> {
    const { flags } = await this.parse(ServiceAccountsKeysList);
    const result = await listKeys(
      this.context,
      accountTarget(this.context, flags['service-account'], flags.project),
      flags.registry,
    );
    this.print(keyTable(result, this.context.io.target));
    return result;
  }
}
