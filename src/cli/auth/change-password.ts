import { ManagementApi } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { activeAccount } from '../credentials/accounts.js';
import { CliError } from '../errors.js';
import { canPrompt, promptSecrets, readAllStdin } from '../io.js';

/** `auth change-password`: the signed-in user changes their own password. */

export interface PasswordChangeResult {
  readonly registry: string;
  readonly account: string;
}

const stdinHint =
  'pipe the current and the new password as two lines: `printf "%s\\n%s\\n" "$OLD" "$NEW" | mistrive auth change-password --password-stdin`';

/** The current and the new password: two lines on stdin, or asked on the terminal without echo. */
async function readPasswords(context: CliContext, fromStdin: boolean): Promise<[string, string]> {
  if (fromStdin) {
    const lines = (await readAllStdin(context.io)).split(/\r?\n/);
    const [current, next] = lines;
    if (lines.length !== 2 || !current || !next) {
      throw new CliError('USAGE', 'expected two lines on stdin: the current password, then the new one', {
        hint: stdinHint,
      });
    }
    return [current, next];
  }
  if (!canPrompt(context.io)) {
    throw new CliError('USAGE', 'no terminal to ask for the passwords on', { hint: stdinHint });
  }
  const [current = '', next = '', again = ''] = await promptSecrets(
    context.io,
    ['Current password: ', 'New password: ', 'New password again: '],
    'the password was not changed',
  );
  if (next !== again) throw new CliError('USAGE', 'the new passwords do not match; nothing was changed');
  return [current, next];
}

export async function changePassword(
  context: CliContext,
  registry: string,
  fromStdin: boolean,
): Promise<PasswordChangeResult> {
  const account = activeAccount(await context.accounts.read(), registry);
  if (account?.kind === 'serviceAccount') {
    throw new CliError(
      'FAILED_PRECONDITION',
      `${account.name} is a service account: it has keys, not a password`,
      {
        hint: 'create a new key with `mistrive service-accounts keys create` and delete the old one',
      },
    );
  }
  const [current, next] = await readPasswords(context, fromStdin);
  await new ManagementApi(context.api(registry)).changeOwnPassword(current, next);
  return { registry, account: account?.name ?? '' };
}
