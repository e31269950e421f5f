import { Flags } from '@oclif/core';
import { type PasswordReset, resetAdminPassword } from '../../src/cli/admin.js';
import { MistriveCommand } from '../../src/cli/base-command.js';
import { CliError } from '../../src/cli/errors.js';
import { readAllStdin } from '../../src/cli/io.js';
import { renderMessage } from '../../src/cli/render.js';
import { ConfigError, loadServeConfig } from '../../src/config/config.js';

export default class AdminResetPassword extends MistriveCommand {
  static override summary = "Replace the administrator's password, with the daemon stopped.";
  static override description =
    'Works on the data directory itself, for when nobody can sign in as admin any more: stop the daemon, run this, start it again. Prints a new generated password once, or sets the one read from stdin.';
  static override examples = [
    '<%= config.bin %> admin reset-password --data-dir /var/lib/mistrive',
    'printf %s "$PASSWORD" | <%= config.bin %> admin reset-password --password-stdin',
  ];
  static override flags = {
    'data-dir': Flags.string({
      description: "the daemon's data directory [default: $MISTRIVE_DATA_DIR, else $XDG_DATA_HOME/mistrive]",
    }),
    config: Flags.file({ description: "the daemon's configuration file, for its dataDir", exists: true }),
    'password-stdin': Flags.boolean({
      description: 'read the new password from stdin instead of generating one',
    }),
  };

  async run(): Promise<PasswordReset> {
    const { flags } = await this.parse(AdminResetPassword);
    let dataDir: string;
    try {
      dataDir = loadServeConfig(flags.config, { dataDir: flags['data-dir'] }).dataDir;
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError('LOCAL_FILE', error.message);
      throw error;
    }
    const chosen = flags['password-stdin'] ? await readAllStdin(this.context.io) : undefined;
    const result = await resetAdminPassword(dataDir, chosen);
    const { target } = this.context.io;
    this.print(
      result.password === undefined
        ? renderMessage(`Set the password of "${result.login}".`, target, 'success')
        : `New password for "${result.login}": ${result.password}\nKeep it safe: it is not shown again.\n`,
    );
    if (this.context.env.MISTRIVE_ADMIN_PASSWORD) {
      this.context.notice(
        'MISTRIVE_ADMIN_PASSWORD is set here: a daemon started with it sets that password instead of this one.',
      );
    }
    return result;
  }
}
