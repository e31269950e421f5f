import { Flags } from '@oclif/core';
import { activateServiceAccount } from '../../src/cli/auth/accounts.js';
import type { LoginResult } from '../../src/cli/auth/login.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';

export default class AuthActivateServiceAccount extends MistriveCommand {
  static override summary = 'Sign in as a service account with its key file.';
  static override description =
    'Checks the key by getting an access token with it, keeps the key in the credential store and makes the service account the active account of its registry. In CI, setting MISTRIVE_KEY to the base64 key does the same for every command without storing anything.';

  static override examples = [
    '<%= config.bin %> auth activate-service-account --key-file ci-key.json',
    '<%= config.bin %> auth activate-service-account --key-file ci-key.json --registry https://registry.example.com',
  ];

  static override flags = {
    'key-file': Flags.string({
      description: 'the JSON key file from `service-accounts keys create`',
      required: true,
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<LoginResult> {
    const { flags } = await this.parse(AuthActivateServiceAccount);
    const result = await activateServiceAccount(this.context, flags['key-file'], flags.registry);
    this.print(
      renderMessage(
        `Activated service account ${result.account} for ${result.registry}.`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
