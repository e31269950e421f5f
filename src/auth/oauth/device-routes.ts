import { RegistryError } from '../../errors/registry-error.js';
import { subjectOf } from '../../iam/principals.js';
import { inWords } from '../../lib/wait-words.js';
import { readForm } from '../../server/http.js';
import type { Route } from '../../server/router.js';
import { findClient } from './clients.js';
import type { DeviceLookup } from './grants.js';
import type { OAuthServices } from './oauth-services.js';
import { pageEndpoint, sendPage, signInFirst } from './page-responses.js';
import { deviceConfirmPage, deviceDonePage, deviceEntryPage } from './pages.js';
import { oauthPaths } from './public-urls.js';

const lookupErrors: Record<Exclude<DeviceLookup['kind'], 'pending'>, string> = {
  unknown: 'No sign-in request has that code. Check the code on your device and try again.',
  expired: 'That code has expired. Start the sign-in again on your device to get a new one.',
  decided: 'That code has been answered already. Start the sign-in again on your device if you need to.',
};

/** The verification page of the device flow (RFC 8628 §3.3): enter the code, check it, approve or deny. */
export function deviceRoutes(services: OAuthServices): Route[] {
  const { sessions, grants, deviceCodeGuesses } = services;

  return [
    {
      name: 'oauth-device-page',
      pattern: /^\/device$/,
      methods: {
        GET: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res, query }) => {
            const userCode = query.get('user_code') ?? undefined;
            const session = await sessions.current(req);
            if (!session) {
              const back = userCode
                ? `${oauthPaths.device}?${new URLSearchParams({ user_code: userCode })}`
                : oauthPaths.device;
              return signInFirst(res, back);
            }
            sendPage(res, deviceEntryPage({ login: session.login, csrfToken: session.csrfToken, userCode }));
          }),
        },
        POST: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res }) => {
            const form = await readForm(req);
            const session = await sessions.current(req);
            if (!session) return signInFirst(res, oauthPaths.device);
            sessions.checkCsrf(session, form);
            const typed = form.get('user_code') ?? '';
            const entry = (status: number, error: string) =>
              sendPage(
                res,
                deviceEntryPage({
                  login: session.login,
                  csrfToken: session.csrfToken,
                  userCode: typed,
                  error,
                }),
                { status },
              );
            const wait = deviceCodeGuesses.retryAfter(session.login);
            if (wait > 0) {
              throw new RegistryError(
                'TOOMANYREQUESTS',
                `Too many wrong codes. Try again ${inWords(wait)}.`,
                {
                  headers: { 'Retry-After': String(wait) },
                },
              );
            }
            const found = await grants.lookupDevice(typed);
            if (found.kind !== 'pending') {
              if (found.kind === 'unknown') deviceCodeGuesses.recordFailure(session.login);
              return entry(400, lookupErrors[found.kind]);
            }
            const client = findClient(found.grant.clientId);
            const decision = form.get('decision');
            if (!client) return entry(400, lookupErrors.unknown);
            if (decision !== 'approve' && decision !== 'deny') {
              const page = deviceConfirmPage({
                login: session.login,
                csrfToken: session.csrfToken,
                client,
                userCode: found.userCode,
              });
              return sendPage(res, page);
            }
            const approved = decision === 'approve';
            const decided = await grants.decideDevice(found.grant, approved, subjectOf(session.caller));
            // Approving a device signs it in as this user: a sign-in, recorded like any other.
            await services.audit.recordRequest(req, {
              action: approved ? 'approveDeviceSignIn' : 'denyDeviceSignIn',
              resource: subjectOf(session.caller),
              outcome: decided ? 'success' : 'failed',
              details: { client: client.id, ...(decided ? {} : { reason: lookupErrors.expired }) },
            });
            if (!decided) return entry(400, lookupErrors.expired);
            sendPage(res, deviceDonePage(session.login, approved));
          }),
        },
      },
    },
  ];
}
