import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthorizationServerMetadata,
  cliClientId,
  fetchMetadata,
  grantFailed,
  grantTypes,
  OAuthError,
  requestDeviceAuthorization,
  requestToken,
  revokeToken,
  type TokenResponse,
} from '../../client/oauth-client.js';
import type { CliContext } from '../context.js';
import { type AccountKind, type AccountSecret, secretKeys, storedRegistry } from '../credentials/accounts.js';
import { openSecretStore, type SecretBackend, saveSecret } from '../credentials/secret-store.js';
import { accountNameOf, expiryOf, jwtClaims } from '../credentials/tokens.js';
import { CliError, hints } from '../errors.js';
import type { Spinner } from '../io.js';

/** How the person signed in. */
export type LoginFlow = 'browser' | 'device' | 'password' | 'service-account-key';

export interface LoginResult {
  readonly registry: string;
  readonly account: string;
  readonly kind: AccountKind;
  readonly flow: LoginFlow;
  /** When the access token expires (ISO); the refresh token renews it. */
  readonly expiresAt: string;
  readonly credentialStore: SecretBackend;
  /** True when this registry became the CLI's default because none was configured. */
  readonly madeDefault: boolean;
}

export interface LoginOptions {
  readonly registry: string;
  readonly noBrowser: boolean;
  readonly username?: string;
  readonly password?: string;
  /** How long to wait for the person in the browser or on the device page (seconds). */
  readonly timeoutSeconds: number;
  readonly spinner: (text: string) => Spinner;
}

/** The scope the CLI asks for: everything the account may do. */
const scope = 'mistrive';

export async function login(context: CliContext, options: LoginOptions): Promise<LoginResult> {
  const { registry } = options;
  const metadata = await fetchMetadata(registry);
  let flow: LoginFlow;
  let tokens: TokenResponse;
  if (options.username !== undefined) {
    flow = 'password';
    tokens = await passwordGrant(metadata, registry, options.username, options.password ?? '');
  } else if (options.noBrowser) {
    flow = 'device';
    tokens = await deviceFlow(context, metadata, options);
  } else {
    const browser = await browserFlow(context, metadata, options);
    flow = browser.flow;
    tokens = browser.tokens;
  }
  return saveSession(context, registry, metadata, tokens, flow);
}

/** Stores a new session's tokens and makes its account the registry's active one. */
export async function saveSession(
  context: CliContext,
  registry: string,
  metadata: Pick<AuthorizationServerMetadata, 'token_endpoint' | 'revocation_endpoint'>,
  tokens: TokenResponse,
  flow: LoginFlow,
  extra: Partial<AccountSecret> = {},
): Promise<LoginResult> {
  const now = context.session.nowSeconds();
  const subject = jwtClaims(tokens.access_token)?.sub;
  if (!subject)
    throw new CliError('SERVER_ERROR', 'the registry issued an access token that names no account');
  const { name, kind } = accountNameOf(subject);
  const expiresAt = expiryOf(tokens.access_token, tokens.expires_in, now);

  // Signing in again replaces the previous session: end it on the server too.
  const previous = await context.accounts.read();
  const stored = storedRegistry(previous, registry);
  const key = secretKeys.account(stored, name);
  const previousRecord = previous.registries[stored]?.accounts[name];
  if (previousRecord) {
    const old = await openSecretStore(previousRecord.backend, context.configDir)
      .get(key)
      .catch(() => undefined);
    const oldRefresh = old ? (JSON.parse(old) as AccountSecret).refreshToken : undefined;
    if (oldRefresh && previousRecord.revocationEndpoint && oldRefresh !== tokens.refresh_token) {
      await revokeToken(previousRecord.revocationEndpoint, oldRefresh, 'refresh_token').catch(() => false);
    }
  }

  const secret: AccountSecret = {
    accessToken: tokens.access_token,
    accessTokenExpiresAt: expiresAt,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...extra,
  };
  const backend = await saveSecret(
    context.env,
    context.configDir,
    key,
    JSON.stringify(secret),
    context.notice,
  );
  if (previousRecord && previousRecord.backend !== backend) {
    await openSecretStore(previousRecord.backend, context.configDir)
      .delete(key)
      .catch(() => false);
  }
  await context.accounts.add(registry, {
    name,
    kind,
    backend,
    tokenEndpoint: metadata.token_endpoint,
    ...(metadata.revocation_endpoint ? { revocationEndpoint: metadata.revocation_endpoint } : {}),
    addedAt: context.now().toISOString(),
  });
  const madeDefault = context.config.get('registry') === undefined;
  if (madeDefault) context.config.set('registry', registry);
  return {
    registry,
    account: name,
    kind,
    flow,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
    credentialStore: backend,
    madeDefault,
  };
}

async function passwordGrant(
  metadata: AuthorizationServerMetadata,
  registry: string,
  username: string,
  password: string,
): Promise<TokenResponse> {
  if (!password) {
    throw new CliError('USAGE', 'no password on stdin', {
      hint: 'pipe it in: `printf %s "$PASSWORD" | mistrive auth login --username U --password-stdin`',
    });
  }
  try {
    return await requestToken(metadata.token_endpoint, {
      grant_type: grantTypes.password,
      username,
      password,
      scope,
    });
  } catch (error) {
    if (error instanceof OAuthError && (error.error === 'invalid_grant' || error.status === 401)) {
      throw new CliError(
        'AUTH_REQUIRED',
        `signing in as ${username} failed: ${error.description ?? 'invalid username or password'}`,
        {
          hint: 'check the username and password (the account may also be disabled)',
          cause: error,
        },
      );
    }
    throw grantFailed(error, registry, `signing in as ${username}`);
  }
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** The page the browser lands on after the redirect. */
function landingPage(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>${title}</h1><p>${message}</p></body></html>`;
}

type CallbackOutcome =
  | { kind: 'code'; code: string }
  | { kind: 'error'; error: string; description?: string };

/**
 * Authorization code with PKCE (S256) and a loopback redirect (RFC 8252): a listener on an
 * ephemeral port of 127.0.0.1 receives the code. The URL is always printed as well; when no browser
 * can be opened here, the device flow takes over.
 */
async function browserFlow(
  context: CliContext,
  metadata: AuthorizationServerMetadata,
  options: LoginOptions,
): Promise<{ flow: LoginFlow; tokens: TokenResponse }> {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const state = base64url(randomBytes(16));

  let settle: (outcome: CallbackOutcome) => void = () => {};
  const outcome = new Promise<CallbackOutcome>((resolve) => {
    settle = resolve;
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = (status: number, title: string, message: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(landingPage(title, message));
    };
    if (url.pathname !== '/callback')
      return reply(404, 'Not found', 'This address only receives the sign-in redirect.');
    if (url.searchParams.get('state') !== state) {
      return reply(
        400,
        'Sign-in not recognised',
        'This response does not belong to the sign-in the terminal is waiting for.',
      );
    }
    const error = url.searchParams.get('error');
    if (error) {
      reply(200, 'Sign-in cancelled', 'Nothing was signed in. You can close this window.');
      return settle({
        kind: 'error',
        error,
        description: url.searchParams.get('error_description') ?? undefined,
      });
    }
    const code = url.searchParams.get('code');
    if (!code) return reply(400, 'Sign-in failed', 'The redirect carried no authorization code.');
    reply(200, 'Signed in to Mistrive', 'You can close this window and go back to the terminal.');
    settle({ kind: 'code', code });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const authorize = new URL(metadata.authorization_endpoint);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: cliClientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }

  const redeem = async (result: CallbackOutcome): Promise<TokenResponse> => {
    if (result.kind === 'error') {
      if (result.error === 'access_denied') {
        throw new CliError(
          'LOGIN_DENIED',
          'the sign-in was cancelled in the browser: access was not granted',
          {
            hint: 'run `mistrive auth login` again and choose Allow on the consent page',
          },
        );
      }
      throw new CliError(
        'LOGIN_DENIED',
        `the registry refused the sign-in: ${result.description ?? result.error}`,
        {
          hint: hints.signIn(options.registry),
        },
      );
    }
    try {
      return await requestToken(metadata.token_endpoint, {
        grant_type: grantTypes.authorizationCode,
        code: result.code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      });
    } catch (error) {
      throw grantFailed(error, options.registry, 'redeeming the authorization code');
    }
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    context.notice(
      `Opening your browser to sign in to ${options.registry}. If it does not open, go to:\n\n  ${authorize}\n`,
    );
    if (!(await context.browser.open(authorize.toString()))) {
      context.notice(
        'No browser can be opened here: open the URL above in a browser on this machine, or sign in with a code on another device.',
      );
      return await firstToComplete(
        outcome.then(async (result) => ({ flow: 'browser' as const, tokens: await redeem(result) })),
        (signal) =>
          deviceFlow(context, metadata, options, signal).then((tokens) => ({
            flow: 'device' as const,
            tokens,
          })),
      );
    }
    const spinner = options.spinner('Waiting for you to sign in in the browser…');
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CliError(
              'TIMEOUT',
              `the browser sign-in did not complete within ${options.timeoutSeconds} s`,
              {
                hint: 'run `mistrive auth login` again, or `mistrive auth login --no-browser` to sign in with a code',
              },
            ),
          ),
        options.timeoutSeconds * 1000,
      );
    });
    let result: CallbackOutcome;
    try {
      result = await Promise.race([outcome, timeout]);
    } catch (error) {
      spinner.fail('Sign-in timed out');
      throw error;
    }
    if (result.kind === 'error') spinner.fail('Sign-in cancelled');
    else spinner.stop();
    return { flow: 'browser', tokens: await redeem(result) };
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}

/**
 * The browser's redirect and the device code, both pending: whichever completes first (or fails
 * first, as a denial on either page) decides, and the device polling stops.
 */
async function firstToComplete<T>(
  viaBrowser: Promise<T>,
  viaDevice: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const device = viaDevice(controller.signal);
  // The one that loses settles later or never; its outcome no longer matters.
  viaBrowser.catch(() => {});
  device.catch(() => {});
  try {
    return await Promise.race([viaBrowser, device]);
  } finally {
    controller.abort();
  }
}

/** A code lifetime in words: "10 minutes", "90 seconds". */
export function formatLifetime(seconds: number): string {
  if (seconds >= 120 || seconds % 60 === 0) {
    const minutes = Math.round(seconds / 60);
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  return `${seconds} seconds`;
}

/** Waits `ms`, or rejects as soon as `signal` aborts (the other sign-in won). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** The device authorization grant (RFC 8628): a code to enter on another device, polled for. */
async function deviceFlow(
  context: CliContext,
  metadata: AuthorizationServerMetadata,
  options: LoginOptions,
  signal?: AbortSignal,
): Promise<TokenResponse> {
  if (!metadata.device_authorization_endpoint) {
    throw new CliError(
      'FAILED_PRECONDITION',
      `${options.registry} does not offer sign-in with a device code`,
      {
        hint: 'sign in with the browser on this machine, or with --username and --password-stdin',
      },
    );
  }
  let device: Awaited<ReturnType<typeof requestDeviceAuthorization>>;
  try {
    device = await requestDeviceAuthorization(metadata.device_authorization_endpoint);
  } catch (error) {
    throw grantFailed(error, options.registry, 'starting the device sign-in');
  }
  context.notice(
    `To sign in, open ${device.verification_uri} in a browser and enter the code:\n\n  ${device.user_code}\n` +
      (device.verification_uri_complete ? `\nor open ${device.verification_uri_complete}\n` : '') +
      `\nThe code expires in ${formatLifetime(device.expires_in)}.\n`,
  );
  const spinner = options.spinner('Waiting for the code to be approved…');
  let interval = Math.max(1, device.interval ?? 5);
  const deadline = Date.now() + Math.min(device.expires_in, options.timeoutSeconds) * 1000;
  try {
    for (;;) {
      await sleep(interval * 1000, signal);
      if (Date.now() > deadline) {
        throw new CliError('TIMEOUT', 'the device code was not approved in time', {
          hint: 'run `mistrive auth login --no-browser` again for a new code',
        });
      }
      try {
        const tokens = await requestToken(metadata.token_endpoint, {
          grant_type: grantTypes.deviceCode,
          device_code: device.device_code,
        });
        spinner.stop();
        return tokens;
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        if (error.error === 'authorization_pending') continue;
        if (error.error === 'slow_down') {
          interval += 5;
          continue;
        }
        if (error.error === 'access_denied') {
          throw new CliError('LOGIN_DENIED', 'the sign-in was denied on the device page', {
            hint: 'run `mistrive auth login --no-browser` again and approve the code',
          });
        }
        if (error.error === 'expired_token') {
          throw new CliError('TIMEOUT', 'the device code expired before it was approved', {
            hint: 'run `mistrive auth login --no-browser` again for a new code',
          });
        }
        throw grantFailed(error, options.registry, 'the device sign-in');
      }
    }
  } catch (error) {
    if (signal?.aborted) spinner.stop();
    else spinner.fail('Sign-in did not complete');
    throw error;
  }
}
