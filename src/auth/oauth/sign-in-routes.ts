import { auditSignIn, namedAccount } from '../../audit/sign-ins.js';
import { RegistryError } from '../../errors/registry-error.js';
import { inWords } from '../../lib/wait-words.js';
import { readForm } from '../../server/http.js';
import { clientAddress } from '../../server/request-identity.js';
import type { Route } from '../../server/router.js';
import type { OAuthServices } from './oauth-services.js';
import { pageEndpoint, redirect, safeNext, sendPage, signInFirst } from './page-responses.js';
import { accountPage, loginPage } from './pages.js';
import { oauthPaths } from './public-urls.js';

const signedOutNotice = 'You have signed out.';

/** The login page, the signed-in landing page and sign-out. */
export function signInRoutes(services: OAuthServices): Route[] {
  const { sessions, credentials } = services;

  return [
    {
      name: 'oauth-login',
      pattern: /^\/login$/,
      methods: {
        GET: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res, query }) => {
            const next = safeNext(query.get('next'));
            if (await sessions.current(req)) return redirect(res, next ?? oauthPaths.account);
            const { token, setCookie } = sessions.loginToken(req);
            const notice = query.get('signed_out') === '1' ? signedOutNotice : undefined;
            sendPage(res, loginPage({ csrfToken: token, next, notice }), {
              headers: setCookie ? { 'Set-Cookie': setCookie } : {},
            });
          }),
        },
        POST: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res }) => {
            const form = await readForm(req);
            const next = safeNext(form.get('next'));
            const login = form.get('login')?.trim() ?? '';
            const { token, setCookie } = sessions.loginToken(req);
            const again = (status: number, error: string, headers: Record<string, string> = {}) =>
              sendPage(res, loginPage({ csrfToken: token, next, login, error }), {
                status,
                headers: { ...headers, ...(setCookie ? { 'Set-Cookie': setCookie } : {}) },
              });
            try {
              sessions.checkLoginCsrf(req, form);
            } catch (error) {
              return again(403, (error as Error).message);
            }
            let caller: Awaited<ReturnType<typeof credentials.password>>;
            try {
              caller = await auditSignIn(services.audit, req, 'login-page', namedAccount(login, ''), () =>
                credentials.password(login, form.get('password') ?? '', clientAddress(req)),
              );
            } catch (error) {
              if (!(error instanceof RegistryError)) throw error;
              if (error.code === 'TOOMANYREQUESTS') {
                const wait = Number(error.headers['Retry-After'] ?? 60);
                return again(
                  429,
                  `Too many failed sign-in attempts. Try again ${inWords(wait)}.`,
                  error.headers,
                );
              }
              return again(401, 'Wrong login or password.');
            }
            if (caller.kind !== 'user') return again(401, 'Wrong login or password.');
            redirect(res, next ?? oauthPaths.account, {
              'Set-Cookie': await sessions.start(req, caller.login),
            });
          }),
        },
      },
    },
    {
      name: 'oauth-account',
      pattern: /^\/account$/,
      methods: {
        GET: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res }) => {
            const session = await sessions.current(req);
            if (!session) return signInFirst(res, oauthPaths.account);
            sendPage(res, accountPage(session.login, session.csrfToken));
          }),
        },
      },
    },
    {
      name: 'oauth-logout',
      pattern: /^\/logout$/,
      methods: {
        POST: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res }) => {
            const form = await readForm(req);
            const session = await sessions.current(req);
            if (session) sessions.checkCsrf(session, form);
            redirect(res, `${oauthPaths.login}?signed_out=1`, { 'Set-Cookie': await sessions.end(req) });
          }),
        },
      },
    },
  ];
}
