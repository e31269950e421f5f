import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { readAllStdin } from '../../src/cli/io.js';
import { renderMessage } from '../../src/cli/render.js';
import { resetPassword } from '../../src/cli/resources/users.js';
import type { PasswordReset } from '../../src/client/management-api.js';

export default class UsersSetPassword extends MistriveCommand {
  static override summary = 'Reset a user’s password (instance administrator only).';
  static override description =
    'Reads the new password from stdin with --password-stdin; without it, generates one and prints it this once. Either way the user is signed out everywhere: every token, refresh token and browser session it held is revoked.';
  static override examples = [
    'printf %s "$PASSWORD" | <%= config.bin %> users set-password alice@example.com --password-stdin',
    '<%= config.bin %> users set-password alice@example.com',
  ];
  static override args = { email: Args.string({ description: 'the login', required: true }) };
  static override flags = {
    'password-stdin': Flags.boolean({
      description: 'read the new password from stdin instead of generating one',
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<PasswordReset> {
    const { args, flags } = await this.parse(UsersSetPassword);
    const password = flags['password-stdin'] ? await readAllStdin(this.context.io) : undefined;
    const result = await resetPassword(this.context, args.email, password, flags.registry);
    const target = this.context.io.target;
    this.print(
      renderMessage(
        `Set a new password for ${result.user.login}; it is signed out everywhere.`,
        target,
        'success',
      ),
    );
    if (result.password !== undefined)
      this.print(
        renderMessage(`Password: ${result.password}\nIt is not shown again: hand it over safely.`, target),
      );
    return result;
  }
}
