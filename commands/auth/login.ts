import { Flags } from '@oclif/core';
import { type LoginResult, login } from '../../src/cli/auth/login.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { CliError } from '../../src/cli/errors.js';
import { readAllStdin, startSpinner } from '../../src/cli/io.js';
import { renderMessage } from '../../src/cli/render.js';

export default class AuthLogin extends MistriveCommand {
  static override summary = 'Sign in to a registry.';
  static override description =
    `Opens the browser to sign in (OAuth authorization code with PKCE; the page redirects to a listener on this machine) and always prints the URL too. With --no-browser, or where no browser can be opened, signs in with a code entered on another device. For scripts, --username with --password-stdin signs in with a password.

Tokens are kept in the OS keychain, or where there is none in a file readable only by you. Set MISTRIVE_BROWSER to a program to open the URL with instead of the default browser.`;

  static override examples = [
    '<%= config.bin %> auth login',
    '<%= config.bin %> auth login --registry https://registry.example.com',
    '<%= config.bin %> auth login --no-browser',
    'printf %s "$PASSWORD" | <%= config.bin %> auth login --username alice@example.com --password-stdin',
  ];

  static override flags = {
    registry: commonFlags.registry,
    'no-browser': Flags.boolean({
      description: 'sign in with a code entered on another device instead of a browser here',
    }),
    username: Flags.string({
      description: 'sign in with a password (scripts): the login name',
      dependsOn: ['password-stdin'],
    }),
    'password-stdin': Flags.boolean({ description: 'read the password from stdin', dependsOn: ['username'] }),
    timeout: Flags.integer({
      description: 'seconds to wait for the sign-in in the browser or on the device',
      default: 300,
      min: 1,
    }),
  };

  async run(): Promise<LoginResult> {
    const { flags } = await this.parse(AuthLogin);
    const password = flags['password-stdin'] ? await readAllStdin(this.context.io) : undefined;
    if (flags.username !== undefined && !password) {
      throw new CliError('USAGE', 'no password on stdin', {
        hint: 'pipe the password in with --password-stdin',
      });
    }
    const result = await login(this.context, {
      registry: this.context.registry(flags.registry),
      noBrowser: flags['no-browser'],
      username: flags.username,
      password,
      timeoutSeconds: flags.timeout,
      spinner: (text) => startSpinner(this.context.io, text, !this.jsonEnabled()),
    });
    const target = this.context.io.target;
    this.print(renderMessage(`Signed in to ${result.registry} as ${result.account}.`, target, 'success'));
    if (result.madeDefault)
      this.print(renderMessage(`${result.registry} is now the default registry.`, target));
    return result;
  }
}
