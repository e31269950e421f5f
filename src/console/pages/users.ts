import type { ManagementServices } from '../../api/api-routes.js';
import { newUser, passwordReset } from '../../api/users/user-service.js';
import { parseInput } from '../../api/validation.js';
import { RegistryError } from '../../errors/registry-error.js';
import { type ConsolePage, doneNotice, type Render } from '../console-page.js';
import { alert, card, csrf, html, notice, page, pageHead, type SafeHtml, time } from '../layout.js';
import { typed } from './forms.js';

const usersPath = '/admin/users';

/** The instance administrator's user list: create, disable, enable, reset a password, delete. */
export function userPages(services: ManagementServices): ConsolePage[] {
  const render: Render = async (request, problem) => {
    const users = await services.users.list(request.caller, { pageSize: 1000, pageToken: undefined });
    const rows = users.items.map(
      (user) =>
        html`<tr><td><strong>${user.login}</strong>${user.admin ? html` <span class="badge">administrator</span>` : ''}</td><td>${
          user.disabled
            ? html`<span class="badge">Disabled</span>`
            : html`<span class="badge on">Active</span>`
        }</td><td class="wide">${time(user.createdAt)}</td><td>${user.admin ? '' : userActions(user.login, user.disabled, csrf(request.viewer))}</td></tr>`,
    );
    const form = problem?.form;
    return page(
      { title: 'Users', viewer: request.viewer, section: 'users' },
      html`${pageHead('Users', 'People who sign in with a login and password. Grant them roles on the Permissions tabs.')}${notice(doneNotice(request))}${card(
        undefined,
        html`<div class="table-wrap"><table><thead><tr><th scope="col">Login</th><th scope="col">Status</th><th scope="col" class="wide">Created</th><th scope="col">Actions</th></tr></thead><tbody>${rows}</tbody></table></div>`,
      )}${card(
        'Create a user',
        html`${alert(problem?.message)}<form class="stack" method="post" action="${usersPath}">${csrf(request.viewer)}
<div class="field"><label for="login">Email</label><input id="login" name="login" type="email" required maxlength="254" autocomplete="off" value="${typed(form, 'login')}"></div>
<div class="field"><label for="password">Initial password</label><input id="password" name="password" type="password" required minlength="8" autocomplete="new-password"><p class="hint">At least 8 characters. Hand it to the person over a channel you trust.</p></div>
<div class="actions"><button class="primary" type="submit">Create user</button></div>
</form>`,
      )}`,
    );
  };
  return [
    {
      name: 'console-users',
      pattern: /^\/admin\/users$/,
      render,
      post: {
        page: render,
        act: async ({ caller }, form) => {
          // The password as typed: spaces at either end are part of it.
          const input = { login: form.get('login')?.trim() ?? '', password: form.get('password') ?? '' };
          await services.users.create(caller, parseInput(newUser, input, 'body'));
          return { redirect: usersPath, notice: 'user-created' };
        },
      },
    },
    {
      name: 'console-user-password',
      pattern: /^\/admin\/users\/(?<login>[^/]+)\/password$/,
      post: {
        page: render,
        act: async ({ caller, param }, form) => {
          const input = parseInput(passwordReset, { password: form.get('password') ?? '' }, 'body');
          await services.users.resetPassword(caller, param('login'), input);
          return { redirect: usersPath, notice: 'password-reset' };
        },
      },
    },
    {
      name: 'console-user-delete',
      pattern: /^\/admin\/users\/(?<login>[^/]+)\/delete$/,
      post: {
        page: render,
        act: async ({ caller, param }, form) => {
          const login = param('login');
          if (form.get('confirm')?.trim().toLowerCase() !== login.toLowerCase()) {
            throw new RegistryError('INVALID_ARGUMENT', `type the login ${login} to confirm the deletion`);
          }
          await services.users.delete(caller, login);
          return { redirect: usersPath, notice: 'user-deleted' };
        },
      },
    },
    {
      name: 'console-user',
      pattern: /^\/admin\/users\/(?<login>[^/]+)$/,
      post: {
        page: render,
        act: async ({ caller, param }, form) => {
          const disabled = form.get('disabled') === 'true';
          await services.users.update(caller, param('login'), { disabled });
          return { redirect: usersPath, notice: disabled ? 'user-disabled' : 'user-enabled' };
        },
      },
    },
  ];
}

/** A user's row actions: enable or disable at once; reset the password or delete behind a disclosure. */
function userActions(login: string, disabled: boolean, token: SafeHtml) {
  const path = `${usersPath}/${encodeURIComponent(login)}`;
  const field = (name: string) => `${name}-${login.replace(/[^a-z0-9]/gi, '-')}`;
  return html`<div class="stack"><form method="post" action="${path}">${token}<input type="hidden" name="disabled" value="${disabled ? 'false' : 'true'}"><button type="submit" class="small${disabled ? '' : ' danger'}">${disabled ? 'Enable' : 'Disable'}</button></form>
<details><summary>Password or delete</summary>
<form class="stack" method="post" action="${path}/password">${token}<div class="field"><label for="${field('password')}">New password for ${login}</label><input id="${field('password')}" name="password" type="password" required minlength="8" autocomplete="new-password"><p class="hint">Ends every sign-in of theirs. Hand it to them over a channel you trust.</p></div><div class="actions"><button type="submit" class="small">Reset password</button></div></form>
<form class="stack" method="post" action="${path}/delete">${token}<div class="field"><label for="${field('confirm')}">Type <code>${login}</code> to delete</label><input id="${field('confirm')}" name="confirm" type="text" autocomplete="off" spellcheck="false" data-confirm-text="${login}" required></div><div class="actions"><button type="submit" class="small danger">Delete user</button></div></form>
</details></div>`;
}
