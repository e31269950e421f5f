import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { deleteUser } from '../../src/cli/resources/users.js';

export default class UsersDelete extends MistriveCommand {
  static override summary = 'Delete a user, every role granted to it, and its tokens and sessions.';
  static override description = 'Asks first on a terminal, unless --yes.';
  static override examples = [
    '<%= config.bin %> users delete alice@example.com',
    '<%= config.bin %> users delete alice@example.com --yes',
  ];
  static override args = { email: Args.string({ description: 'the login', required: true }) };
  static override flags = { yes: commonFlags.yes, registry: commonFlags.registry };

  async run(): Promise<{ login: string }> {
    const { args, flags } = await this.parse(UsersDelete);
    await this.confirmDeletion(`user ${args.email}, its roles, tokens and sessions`, flags.yes);
    const result = await deleteUser(this.context, args.email, flags.registry);
    this.print(renderMessage(`Deleted user ${result.login}.`, this.context.io.target, 'success'));
    return result;
  }
}
