import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { readAllStdin } from '../../src/cli/io.js';
import { renderMessage } from '../../src/cli/render.js';
import { createUser } from '../../src/cli/resources/users.js';
import type { User } from '../../src/client/management-api.js';

export default class UsersCreate extends MistriveCommand {
  static override summary = 'Create a user (instance administrator only).';
  static override description =
    'The login is an email address; the password (at least 8 characters) is read from stdin.';
  static override examples = [
    'printf %s "$PASSWORD" | <%= config.bin %> users create alice@example.com --password-stdin',
  ];
  static override args = {
    email: Args.string({ description: 'the login: an email address', required: true }),
  };
  static override flags = {
    'password-stdin': Flags.boolean({ description: 'read the password from stdin', required: true }),
    registry: commonFlags.registry,
  };

  async run(): Promise<User> {
    const { args, flags } = await this.parse(UsersCreate);
    const password = await readAllStdin(this.context.io);
    const result = await createUser(this.context, args.email, password, flags.registry);
    this.print(renderMessage(`Created user ${result.login}.`, this.context.io.target, 'success'));
    return result;
  }
}
