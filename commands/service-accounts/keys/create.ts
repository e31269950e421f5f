import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../../src/cli/base-command.js';
import { renderMessage } from '../../../src/cli/render.js';
import { accountTarget, createKey, type KeyCreated } from '../../../src/cli/resources/service-accounts.js';

export default class ServiceAccountsKeysCreate extends MistriveCommand {
  static override summary = 'Create a key for a service account and write its key file.';
  static override description =
    'The registry keeps only the public half: the key file, written readable only by you, is the one copy of the private key. Use it with `auth activate-service-account --key-file`, or in CI as MISTRIVE_KEY (base64 of the file). With KEY_FILE "-", the key file goes to stdout.';

  static override examples = [
    '<%= config.bin %> service-accounts keys create ci-key.json --service-account ci@my-project.iam.mistrive',
    'MISTRIVE_KEY=$(<%= config.bin %> service-accounts keys create - --service-account ci --project my-project | base64 -w0)',
  ];

  static override args = {
    'key-file': Args.string({ description: 'where to write the key file ("-" for stdout)', required: true }),
  };
  static override flags = {
    'service-account': Flags.string({
      description: 'the email, or the account ID with --project',
      required: true,
    }),
    project: commonFlags.project,
    registry: commonFlags.registry,
  };

  async run(): Promise<KeyCreated> {
    const { args, flags } = await this.parse(ServiceAccountsKeysCreate);
    const target = accountTarget(this.context, flags['service-account'], flags.project);
    const { keyFileContent, ...result } = await createKey(
      this.context,
      target,
      args['key-file'],
      flags.registry,
    );
    if (keyFileContent !== undefined) {
      // The key file itself is the output: it goes to stdout whatever the format.
      this.context.io.stdout.write(keyFileContent);
      return result;
    }
    this.print(
      renderMessage(
        `Created key ${result.key.id} for ${target.account}; the key file is ${result.keyFile}.`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
