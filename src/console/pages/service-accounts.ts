import type { ManagementServices } from '../../api/api-routes.js';
import { newServiceAccount } from '../../api/service-accounts/service-account-service.js';
import { oauthPaths } from '../../auth/oauth/public-urls.js';
import type { ConsolePage, Render } from '../console-page.js';
import { alert, card, csrf, html, time } from '../layout.js';
import { formBody, typed } from './forms.js';
import { projectFrame, projectPath } from './project.js';

const accountsPath = (project: string) => `${projectPath(project)}/service-accounts`;
const accountPath = (project: string, email: string) =>
  `${accountsPath(project)}/${encodeURIComponent(email)}`;

/** A project's service accounts and their keys (project owners): create, disable, delete. */
export function serviceAccountPages(services: ManagementServices): ConsolePage[] {
  const frame = async (request: Parameters<Render>[0], body: Parameters<typeof projectFrame>[4]) => {
    const id = request.param('project');
    const role = await services.access.project(request.caller, id, 'see');
    return projectFrame(
      request,
      await services.projects.get(request.caller, id),
      role,
      'service-accounts',
      body,
    );
  };

  const list: Render = async (request, problem) => {
    const project = request.param('project');
    const accounts = await services.serviceAccounts.list(request.caller, project, {
      pageSize: 1000,
      pageToken: undefined,
    });
    const rows = accounts.items.map(
      (account) =>
        html`<tr><td><a href="${accountPath(project, account.email)}"><strong>${account.email}</strong></a></td><td>${account.displayName}</td><td class="wide">${time(account.createdAt)}</td></tr>`,
    );
    const form = problem?.form;
    return frame(
      request,
      html`${card(
        undefined,
        accounts.items.length
          ? html`<div class="table-wrap"><table><thead><tr><th scope="col">Service account</th><th scope="col">Name</th><th scope="col" class="wide">Created</th></tr></thead><tbody>${rows}</tbody></table></div>`
          : html`<p class="empty">No service accounts. CI pipelines sign in with one's key.</p>`,
      )}${card(
        'Create a service account',
        html`${alert(problem?.message)}<form class="stack" method="post" action="${accountsPath(project)}">${csrf(request.viewer)}
<div class="field"><label for="accountId">Account ID</label><input id="accountId" name="accountId" type="text" required maxlength="63" autocomplete="off" spellcheck="false" value="${typed(form, 'accountId')}" aria-describedby="accountId-hint"><p class="hint" id="accountId-hint">Its email is ID@${project}.iam.mistrive.</p></div>
<div class="field"><label for="displayName">Display name (optional)</label><input id="displayName" name="displayName" type="text" maxlength="100" value="${typed(form, 'displayName')}"></div>
<div class="actions"><button class="primary" type="submit">Create service account</button></div></form>`,
      )}`,
    );
  };

  const account: Render = async (request, problem) => {
    const project = request.param('project');
    const email = request.param('account');
    const found = await services.serviceAccounts.get(request.caller, project, email);
    const keys = await services.serviceAccounts.listKeys(request.caller, project, email, {
      pageSize: 1000,
      pageToken: undefined,
    });
    const path = accountPath(project, found.email);
    const rows = keys.items.map(
      (key) =>
        html`<tr><td class="mono">${key.id}</td><td>${key.disabled ? html`<span class="badge">Disabled</span>` : html`<span class="badge on">Active</span>`}</td><td class="wide">${time(key.createdAt)}</td><td><div class="actions"><form method="post" action="${path}/keys/${encodeURIComponent(key.id)}">${csrf(request.viewer)}<input type="hidden" name="action" value="${key.disabled ? 'enable' : 'disable'}"><button type="submit" class="small">${key.disabled ? 'Enable' : 'Disable'}</button></form><form method="post" action="${path}/keys/${encodeURIComponent(key.id)}">${csrf(request.viewer)}<input type="hidden" name="action" value="delete"><button type="submit" class="small danger">Delete</button></form></div></td></tr>`,
    );
    return frame(
      request,
      html`<h2>${found.email}</h2>${alert(problem?.message)}${card(
        'Keys',
        html`${keys.items.length ? html`<div class="table-wrap"><table><thead><tr><th scope="col">Key ID</th><th scope="col">Status</th><th scope="col" class="wide">Created</th><th scope="col">Actions</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p class="empty">No keys.</p>`}
<form method="post" action="${path}/keys">${csrf(request.viewer)}<p class="warning">Creating a key downloads its JSON file <strong>once</strong>: Mistrive keeps only the public key and cannot show the file again. Store it as a secret (for CI, <code>base64 -w0 FILE</code> as <code>MISTRIVE_KEY</code>).</p><button class="primary" type="submit">Create key and download it</button></form>`,
      )}${card(
        'Delete service account',
        html`<p>Deletes the account, its keys and every permission granted to it.</p><form method="post" action="${path}/delete">${csrf(request.viewer)}<button class="danger" type="submit">Delete ${found.email}</button></form>`,
      )}`,
    );
  };

  const base = /^\/projects\/(?<project>[^/]+)\/service-accounts/.source;
  return [
    {
      name: 'console-service-accounts',
      pattern: new RegExp(`${base}$`),
      render: list,
      post: {
        page: list,
        act: async ({ caller, param }, form) => {
          const project = param('project');
          const created = await services.serviceAccounts.create(
            caller,
            project,
            formBody(newServiceAccount, form, { text: ['accountId', 'displayName'] }),
          );
          return { redirect: accountPath(project, created.email), notice: 'account-created' };
        },
      },
    },
    { name: 'console-service-account', pattern: new RegExp(`${base}/(?<account>[^/]+)$`), render: account },
    {
      name: 'console-service-account-delete',
      pattern: new RegExp(`${base}/(?<account>[^/]+)/delete$`),
      post: {
        page: account,
        act: async ({ caller, param }) => {
          await services.serviceAccounts.delete(caller, param('project'), param('account'));
          return { redirect: accountsPath(param('project')), notice: 'account-deleted' };
        },
      },
    },
    {
      name: 'console-service-account-keys',
      pattern: new RegExp(`${base}/(?<account>[^/]+)/keys$`),
      post: {
        page: account,
        act: async ({ caller, param, origin }) => {
          const [project, email] = [param('project'), param('account')];
          const created = await services.serviceAccounts.createKey(
            caller,
            project,
            email,
            `${origin}${oauthPaths.token}`,
          );
          return {
            download: {
              filename: `${created.key.serviceAccount}-${created.key.id}.json`,
              body: `${JSON.stringify(created.keyFile, null, 2)}\n`,
            },
          };
        },
      },
    },
    {
      name: 'console-service-account-key',
      pattern: new RegExp(`${base}/(?<account>[^/]+)/keys/(?<key>[^/]+)$`),
      post: {
        page: account,
        act: async ({ caller, param }, form) => {
          const [project, email, key] = [param('project'), param('account'), param('key')];
          const action = form.get('action');
          if (action === 'delete') await services.serviceAccounts.deleteKey(caller, project, email, key);
          else
            await services.serviceAccounts.updateKey(caller, project, email, key, {
              disabled: action === 'disable',
            });
          const notice =
            action === 'delete' ? 'key-deleted' : action === 'disable' ? 'key-disabled' : 'key-enabled';
          return { redirect: accountPath(project, email), notice };
        },
      },
    },
  ];
}
