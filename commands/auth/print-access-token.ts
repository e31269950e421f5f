import { Args } from '@oclif/core';
import { type AccessTokenResult, printableAccessToken } from '../../src/cli/auth/accounts.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';

export default class AuthPrintAccessToken extends MistriveCommand {
  static override summary = 'Print an access token for the active account.';
  static override description =
    'The token works as a Bearer token on the registry (/v2/) and the management API, and as the password of the user oauth2accesstoken. It is renewed first when it has less than a minute left.';

  static override examples = [
    '<%= config.bin %> auth print-access-token',
    'curl -H "Authorization: Bearer $(<%= config.bin %> auth print-access-token)" http://localhost:5000/v2/_catalog',
  ];

  static override args = {
    account: Args.string({ description: 'an account of the registry other than the active one' }),
  };

  static override flags = { registry: commonFlags.registry };

  async run(): Promise<AccessTokenResult> {
    const { args, flags } = await this.parse(AuthPrintAccessToken);
    const result = await printableAccessToken(
      this.context,
      this.context.registry(flags.registry),
      args.account,
    );
    this.print(`${result.accessToken}\n`);
    return result;
  }
}
