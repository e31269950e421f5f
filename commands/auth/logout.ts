import { Args } from '@oclif/core';
import { accountOrRegistry, type LogoutResult, logout } from '../../src/cli/auth/accounts.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';

export default class AuthLogout extends MistriveCommand {
  static override summary = 'Sign out: revoke the session on the registry and forget it here.';
  static override examples = [
    '<%= config.bin %> auth logout',
    '<%= config.bin %> auth logout alice@example.com --registry localhost:5000',
    '<%= config.bin %> auth logout localhost:5000',
  ];

  static override args = {
    account: Args.string({
      description:
        'the account to sign out [default: the active one]; a registry address (HOST[:PORT] or URL) signs out its active account',
    }),
  };

  static override flags = { registry: commonFlags.registry };

  async run(): Promise<LogoutResult> {
    const { args, flags } = await this.parse(AuthLogout);
    const { registry, account } = await accountOrRegistry(this.context, args.account, flags.registry);
    const result = await logout(this.context, registry, account);
    const target = this.context.io.target;
    this.print(
      renderMessage(
        `Signed out ${result.account} from ${result.registry}${result.revoked ? '' : ' (the registry could not confirm the revocation; the tokens expire on their own)'}.`,
        target,
        'success',
      ),
    );
    if (result.active) this.print(renderMessage(`The active account is now ${result.active}.`, target));
    return result;
  }
}
