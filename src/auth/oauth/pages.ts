import { createHash } from 'node:crypto';
import type { OAuthClient } from './clients.js';
import { html, type SafeHtml, unescaped } from './html.js';
import { oauthPaths } from './public-urls.js';
import { csrfField } from './web-sessions.js';

/**
 * The pages of the sign-in flows: login, consent, device code entry and confirmation, the
 * signed-in landing page and messages. Plain forms, no script; everything interpolated is escaped.
 */

const stylesheet = [
  '*{box-sizing:border-box}',
  'body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2328;background:#f6f8fa}',
  'main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}',
  'header{display:flex;justify-content:space-between;align-items:baseline;margin-bottom:1.5rem;color:#59636e;font-size:.875rem}',
  '.brand{font-weight:600;font-size:1rem;color:#1f2328}',
  'h1{font-size:1.375rem;margin:0 0 1rem}',
  'label{display:block;font-weight:600;margin:1rem 0 .25rem}',
  'input{width:100%;padding:.5rem .625rem;font:inherit;border:1px solid #d0d7de;border-radius:6px}',
  'button{font:inherit;padding:.5rem 1.25rem;border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa;cursor:pointer}',
  'button.primary{background:#1f6feb;border-color:#1f6feb;color:#fff}',
  '.actions{display:flex;gap:.75rem;margin-top:1.5rem}',
  '.alert{padding:.75rem 1rem;border-radius:6px;border:1px solid #ffcecb;background:#ffebe9}',
  '.notice{padding:.75rem 1rem;border-radius:6px;border:1px solid #aceebb;background:#dafbe1}',
  'dt{font-weight:600}dd{margin:0 0 .75rem}',
  'code{font-family:ui-monospace,monospace;word-break:break-all}',
  '.user-code{display:block;font:600 2rem ui-monospace,monospace;letter-spacing:.15em;text-align:center;margin:1rem 0}',
  '.muted{color:#59636e;font-size:.875rem}',
].join('');

/** The CSP hash of the one inline stylesheet: pages allow no other style and no script. */
export const stylesheetHash = `sha256-${createHash('sha256').update(stylesheet, 'utf8').digest('base64')}`;

interface Layout {
  readonly title: string;
  readonly signedInAs?: string | undefined;
}

function page(layout: Layout, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${layout.title} · Mistrive</title>
<style>${unescaped(stylesheet)}</style>
</head>
<body>
<main>
<header><span class="brand">Mistrive</span>${layout.signedInAs ? html`<span>Signed in as <strong>${layout.signedInAs}</strong></span>` : ''}</header>
${body}
</main>
</body>
</html>
`;
}

const alert = (message: string | undefined) =>
  message ? html`<p class="alert" role="alert">${message}</p>` : '';
const notice = (message: string | undefined) =>
  message ? html`<p class="notice" role="status">${message}</p>` : '';
const hidden = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}">`;

export interface LoginPage {
  readonly csrfToken: string;
  readonly next: string | undefined;
  readonly login?: string | undefined;
  readonly error?: string | undefined;
  readonly notice?: string | undefined;
}

export function loginPage(view: LoginPage): SafeHtml {
  return page(
    { title: 'Sign in' },
    html`<h1>Sign in</h1>
${alert(view.error)}${notice(view.notice)}
<form method="post" action="${oauthPaths.login}">
${hidden(csrfField, view.csrfToken)}${view.next ? hidden('next', view.next) : ''}
<label for="login">Login</label>
<input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${view.login ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>`,
  );
}

export interface ConsentPage {
  readonly login: string;
  readonly client: OAuthClient;
  readonly redirectUri: string;
  readonly csrfToken: string;
  /** The authorization request, carried to the POST that answers it. */
  readonly request: Readonly<Record<string, string>>;
}

export function consentPage(view: ConsentPage): SafeHtml {
  return page(
    { title: `Allow ${view.client.name}?`, signedInAs: view.login },
    html`<h1>Allow ${view.client.name} to use your account?</h1>
<dl>
<dt>Application</dt><dd>${view.client.name} (${view.client.description})</dd>
<dt>Access</dt><dd>Everything your account <strong>${view.login}</strong> may do: push and pull images, manage projects, repositories and permissions.</dd>
<dt>Returns to</dt><dd><code>${view.redirectUri}</code>, a program on this computer</dd>
</dl>
<p class="muted">Allow only if you just started <code>mistrive auth login</code> yourself.</p>
<form method="post" action="${oauthPaths.authorize}">
${hidden(csrfField, view.csrfToken)}${Object.entries(view.request).map(([name, value]) => hidden(name, value))}
<div class="actions">
<button class="primary" type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`,
  );
}

export interface DeviceEntryPage {
  readonly login: string;
  readonly csrfToken: string;
  readonly userCode?: string | undefined;
  readonly error?: string | undefined;
}

export function deviceEntryPage(view: DeviceEntryPage): SafeHtml {
  return page(
    { title: 'Connect a device', signedInAs: view.login },
    html`<h1>Connect a device</h1>
${alert(view.error)}
<p>Enter the code your terminal shows after <code>mistrive auth login --no-browser</code>.</p>
<form method="post" action="${oauthPaths.device}">
${hidden(csrfField, view.csrfToken)}
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX" maxlength="20" required autofocus value="${view.userCode ?? ''}">
<div class="actions"><button class="primary" type="submit">Continue</button></div>
</form>`,
  );
}

export interface DeviceConfirmPage {
  readonly login: string;
  readonly csrfToken: string;
  readonly client: OAuthClient;
  readonly userCode: string;
}

export function deviceConfirmPage(view: DeviceConfirmPage): SafeHtml {
  return page(
    { title: 'Confirm the device', signedInAs: view.login },
    html`<h1>Is this the code on your device?</h1>
<span class="user-code">${view.userCode}</span>
<p>${view.client.name} (${view.client.description}) on another device asks to sign in as <strong>${view.login}</strong>, with everything your account may do.</p>
<p class="muted">Approve only if the code matches the one your own terminal shows. Someone who sent you this code or link may be trying to get into your account.</p>
<form method="post" action="${oauthPaths.device}">
${hidden(csrfField, view.csrfToken)}${hidden('user_code', view.userCode)}
<div class="actions">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`,
  );
}

export function deviceDonePage(login: string, approved: boolean): SafeHtml {
  return approved
    ? page(
        { title: 'Device connected', signedInAs: login },
        html`<h1>Device connected</h1>
<p>The device is signed in as <strong>${login}</strong>. You can close this window and return to your terminal.</p>`,
      )
    : page(
        { title: 'Request denied', signedInAs: login },
        html`<h1>Request denied</h1>
<p>The device was not given access. You can close this window.</p>`,
      );
}

export function accountPage(login: string, csrfToken: string): SafeHtml {
  return page(
    { title: 'Signed in', signedInAs: login },
    html`<h1>You are signed in</h1>
<p>This browser is signed in to Mistrive as <strong>${login}</strong>.</p>
<p><a href="/">Open the console</a> to browse projects, repositories and images.</p>
<p>To connect a device that shows a code, go to <a href="${oauthPaths.device}">${oauthPaths.device}</a>.</p>
<form method="post" action="${oauthPaths.logout}">
${hidden(csrfField, csrfToken)}
<div class="actions"><button type="submit">Sign out</button></div>
</form>`,
  );
}

/** A page that only says what happened: errors, and requests that cannot go on. */
export function messagePage(title: string, message: string, signedInAs?: string): SafeHtml {
  return page({ title, signedInAs }, html`<h1>${title}</h1>${alert(message)}`);
}
