import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { setUserDisabled } from '../../src/cli/resources/users.js';
import type { User } from '../../src/client/management-api.js';

export default class UsersEnable extends MistriveCommand {
  static override summary = 'Enable a disabled user again.';
  static override examples = ['<%= config.bin %> users enable alice@example.com'];
  static override args = { email: Args.string({ description: 'the login', required: true }) };
  static override flags = { registry: commonFlags.registry };

  async run(): Promise<User> {
    const { args, flags } = await this.parse(UsersEnable);
    const result = await setUserDisabled(this.context, args.email, false, flags.registry);
    this.print(renderMessage(`Enabled user ${result.login}.`, this.context.io.target, 'success'));
    return result;
  }
}
