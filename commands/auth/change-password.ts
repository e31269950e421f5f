import { Flags } from '@oclif/core';
import { changePassword, type PasswordChangeResult } from '../../src/cli/auth/change-password.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';

export default class AuthChangePassword extends MistriveCommand {
  static override summary = 'Change your password on a registry.';
  static override description =
    'Asks for the current and the new password on the terminal, without showing them; for scripts, --password-stdin reads them as two lines. This sign-in stays valid; every other sign-in of the account (other machines, browsers) is signed out.';
  static override examples = [
    '<%= config.bin %> auth change-password',
    'printf "%s\\n%s\\n" "$OLD" "$NEW" | <%= config.bin %> auth change-password --password-stdin',
  ];
  static override flags = {
    'password-stdin': Flags.boolean({
      description: 'read the current password and the new one from stdin, one a line',
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<PasswordChangeResult> {
    const { flags } = await this.parse(AuthChangePassword);
    const result = await changePassword(
      this.context,
      this.context.registry(flags.registry),
      flags['password-stdin'],
    );
    const target = this.context.io.target;
    this.print(
      renderMessage(
        `Changed the password of ${result.account || 'your account'} on ${result.registry}. Your other sign-ins have been signed out.`,
        target,
        'success',
      ),
    );
    return result;
  }
}
