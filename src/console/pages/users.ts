import type { ManagementServices } from '../../api/api-routes.js';
import { newUser } from '../../api/users/user-service.js';
import { parseInput } from '../../api/validation.js';
import { type ConsolePage, doneNotice, type Render } from '../console-page.js';
import { alert, card, csrf, html, notice, page, pageHead, time } from '../layout.js';
import { typed } from './forms.js';

const usersPath = '/admin/users';

/**
 * The instance administrator's user list: create, disable and enable. Resetting a password and
 * deleting a user belong in each row's actions once the user service offers them.
 */
export function userPages(services: ManagementServices): ConsolePage[] {
  const render: Render = async (request, problem) => {
    const users = await services.users.list(request.caller, { pageSize: 1000, pageToken: undefined });
    const rows = users.items.map(
      (user) =>
        html`<tr><td><strong>${user.login}</strong>${user.admin ? html` <span class="badge">administrator</span>` : ''}</td><td>${
          user.disabled
            ? html`<span class="badge">Disabled</span>`
            : html`<span class="badge on">Active</span>`
        }</td><td class="wide">${time(user.createdAt)}</td><td>${
          user.admin
            ? ''
            : html`<form method="post" action="${usersPath}/${encodeURIComponent(user.login)}">${csrf(request.viewer)}<input type="hidden" name="disabled" value="${user.disabled ? 'false' : 'true'}"><button type="submit" class="small${user.disabled ? '' : ' danger'}">${user.disabled ? 'Enable' : 'Disable'}</button></form>`
        }</td></tr>`,
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
