import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { listUsers, type UserList } from '../../src/cli/resources/users.js';
import { userTable } from '../../src/cli/views.js';

export default class UsersList extends MistriveCommand {
  static override summary = 'List users (instance administrator only).';
  static override examples = ['<%= config.bin %> users list', '<%= config.bin %> users list --json'];
  static override flags = { registry: commonFlags.registry };

  async run(): Promise<UserList> {
    const { flags } = await this.parse(UsersList);
    const result = await listUsers(this.context, flags.registry);
    this.print(userTable(result.users, this.context.io.target));
    return result;
  }
}
