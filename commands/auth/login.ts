import { Flags } from '@oclif/core';
import { readCaCertificate, trustForCli } from '../../src/cli/auth/ca-certificates.js';
import { type LoginResult, login } from '../../src/cli/auth/login.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { CliError } from '../../src/cli/errors.js';
import { promptSecret, readAllStdin, startSpinner } from '../../src/cli/io.js';
import { renderMessage } from '../../src/cli/render.js';

export default class AuthLogin extends MistriveCommand {
  static override summary = 'Sign in to a registry.';
  static override description =
    `Opens the browser to sign in (OAuth authorization code with PKCE; the page redirects to a listener on this machine) and always prints the URL too. With --no-browser, or where no browser can be opened, signs in with a code entered on another device (it says how long the code is valid); where no browser can be opened, the printed URL keeps working too, and whichever completes first signs in. --username signs in with a password: read from stdin with --password-stdin (scripts), else asked for on the terminal without echo.

Tokens are kept in the OS keychain, or where there is none in a file readable only by you. Set MISTRIVE_BROWSER to a program to open the URL with instead of the default browser.`;

  static override examples = [
    '<%= config.bin %> auth login',
    '<%= config.bin %> auth login --registry https://registry.example.com',
    '<%= config.bin %> auth login --registry https://registry.example.com:5000 --ca-cert ca.crt',
    '<%= config.bin %> auth login --no-browser',
    'printf %s "$PASSWORD" | <%= config.bin %> auth login --username alice@example.com --password-stdin',
  ];

  static override flags = {
    registry: commonFlags.registry,
    'no-browser': Flags.boolean({
      description: 'sign in with a code entered on another device instead of a browser here',
    }),
    username: Flags.string({
      description:
        'sign in with a password: the login name (the password is read from stdin with --password-stdin, else asked for on the terminal)',
    }),
    'password-stdin': Flags.boolean({ description: 'read the password from stdin', dependsOn: ['username'] }),
    'ca-cert': Flags.string({
      description:
        'trust this CA certificate (PEM) for the registry from now on, as the credential helper does: for a registry with its own CA (mistrive serve --tls self-signed)',
    }),
    timeout: Flags.integer({
      description: 'seconds to wait for the sign-in in the browser or on the device',
      default: 300,
      min: 1,
    }),
  };

  async run(): Promise<LoginResult> {
    const { flags } = await this.parse(AuthLogin);
    const password = await this.password(flags.username, flags['password-stdin']);
    const registry = this.context.registry(flags.registry);
    if (flags['ca-cert']) {
      await trustForCli(this.context, new URL(registry).host, await readCaCertificate(flags['ca-cert']));
    }
    const result = await login(this.context, {
      registry,
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

  /** The password for --username: from stdin with --password-stdin, else asked for without echo on a terminal. */
  private async password(username: string | undefined, fromStdin: boolean): Promise<string | undefined> {
    const { io } = this.context;
    if (username === undefined) return undefined;
    let password: string;
    if (fromStdin) password = await readAllStdin(io);
    else if (io.stdin.isTTY === true && io.stderrTty)
      password = await promptSecret(io, `Password for ${username}: `);
    else {
      throw new CliError('USAGE', `no password for ${username}: there is no terminal to ask on`, {
        hint: 'pipe it in: `printf %s "$PASSWORD" | mistrive auth login --username U --password-stdin`',
      });
    }
    if (!password) {
      throw new CliError('USAGE', fromStdin ? 'no password on stdin' : 'no password was typed', {
        hint: fromStdin
          ? 'pipe the password in with --password-stdin'
          : 'run the command again and type the password',
      });
    }
    return password;
  }
}
