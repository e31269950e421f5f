import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { setUserDisabled } from '../../src/cli/resources/users.js';
import type { User } from '../../src/client/management-api.js';

export default class UsersDisable extends MistriveCommand {
  static override summary = 'Disable a user: it can no longer sign in or use its tokens.';
  static override examples = ['<%= config.bin %> users disable alice@example.com'];
  static override args = { email: Args.string({ description: 'the login', required: true }) };
  static override flags = { registry: commonFlags.registry };

  async run(): Promise<User> {
    const { args, flags } = await this.parse(UsersDisable);
    const result = await setUserDisabled(this.context, args.email, true, flags.registry);
    this.print(renderMessage(`Disabled user ${result.login}.`, this.context.io.target, 'success'));
    return result;
  }
}
