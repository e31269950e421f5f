import { Args } from '@oclif/core';
import {
  type AccessTokenResult,
  accountOrRegistry,
  printableAccessToken,
} from '../../src/cli/auth/accounts.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';

export default class AuthPrintAccessToken extends MistriveCommand {
  static override summary = 'Print an access token for the active account.';
  static override description =
    'The token works as a Bearer token on the registry (/v2/) and the management API, and as the password of the user oauth2accesstoken. It is renewed first when it has less than a minute left.';

  static override examples = [
    '<%= config.bin %> auth print-access-token',
    '<%= config.bin %> auth print-access-token localhost:5000',
    'curl -H "Authorization: Bearer $(<%= config.bin %> auth print-access-token)" http://localhost:5000/v2/_catalog',
  ];

  static override args = {
    account: Args.string({
      description:
        'an account of the registry other than the active one, or a registry address (HOST[:PORT] or URL) for its active account',
    }),
  };

  static override flags = { registry: commonFlags.registry };

  async run(): Promise<AccessTokenResult> {
    const { args, flags } = await this.parse(AuthPrintAccessToken);
    const { registry, account } = await accountOrRegistry(this.context, args.account, flags.registry);
    const result = await printableAccessToken(this.context, registry, account);
    this.print(`${result.accessToken}\n`);
    return result;
  }
}
