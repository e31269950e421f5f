import { type AccountList, listAccounts } from '../../src/cli/auth/accounts.js';
import { MistriveCommand } from '../../src/cli/base-command.js';
import { formatTime, renderTable } from '../../src/cli/render.js';

export default class AuthList extends MistriveCommand {
  static override summary = 'List the accounts signed in, per registry.';
  static override description =
    'Shows each registry, its accounts, which one is active, when the cached access token expires (it is renewed on use) and where the credentials are kept. A service-account key in MISTRIVE_KEY is listed first and wins over the stored accounts of its registry.';

  static override examples = ['<%= config.bin %> auth list', '<%= config.bin %> auth list --json'];

  async run(): Promise<AccountList> {
    await this.parse(AuthList);
    const result = await listAccounts(this.context);
    const target = this.context.io.target;
    if (result.accounts.length === 0 && target.tty)
      this.print('No accounts. Sign in with `mistrive auth login`.\n');
    this.print(
      renderTable(
        [
          { header: 'Active', value: (row) => (row.active ? '*' : '') },
          { header: 'Registry', value: (row) => row.registry },
          { header: 'Account', value: (row) => row.account },
          { header: 'Type', value: (row) => (row.kind === 'serviceAccount' ? 'service account' : 'user') },
          {
            header: 'Token expires',
            value: (row) => (target.tty ? formatTime(row.tokenExpiresAt) : row.tokenExpiresAt),
          },
          { header: 'Stored in', value: (row) => row.credentialStore },
        ],
        result.accounts,
        target,
      ),
    );
    return result;
  }
}
