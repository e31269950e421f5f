import type { ManagementServices } from '../../api/api-routes.js';
import { defaultOrganization, newProject } from '../../api/projects/project-service.js';
import { resourceIdPattern } from '../../api/schemas.js';
import { allows } from '../../iam/policy.js';
import { type ConsolePage, doneNotice } from '../console-page.js';
import { alert, card, csrf, formatBytes, html, notice, page, pageHead, type SafeHtml } from '../layout.js';
import { formBody, typed } from './forms.js';

/**
 * The ID rules as an HTML `pattern`: browsers compile it with the `v` flag, where a hyphen in a
 * class must be escaped (unescaped, the whole pattern is ignored).
 */
const idPattern = resourceIdPattern.source.replace(/^\^|\$$/g, '').replaceAll('-]', '\\-]');

/** The ID input with its rules: the browser checks the pattern, the script explains it live. */
export function idInput(id: string, name: string, value: string, required: boolean, rules: string): SafeHtml {
  return html`<input id="${id}" name="${name}" type="text" value="${value}" pattern="${idPattern}" maxlength="63" autocomplete="off" autocapitalize="none" spellcheck="false" data-id-rules aria-describedby="${id}-hint"${required ? html` required` : ''}>
<p class="hint" id="${id}-hint">${rules}</p>`;
}

export const idRules =
  'Lowercase letters, digits and hyphens; starts with a letter, does not end with a hyphen; at most 63 characters.';

/** The projects the caller may see, and the form to create one for those allowed. */
export function projectListPages(services: ManagementServices): ConsolePage[] {
  const render: NonNullable<ConsolePage['render']> = async (request, problem) => {
    const { caller, viewer } = request;
    const projects = await services.projects.list(caller, { pageSize: 1000, pageToken: undefined });
    const rows = await Promise.all(
      projects.items.map(async (project) => {
        const repositories = await services.repositories.list(caller, project.id, {
          pageSize: 1000,
          pageToken: undefined,
        });
        return html`<tr data-name="${project.id}"><td><a href="/projects/${project.id}"><strong>${project.id}</strong></a></td><td>${project.displayName || html`<span class="muted">—</span>`}</td><td class="wide">${project.description}</td><td class="num">${repositories.items.length}${repositories.nextPageToken ? '+' : ''}</td><td class="num">${formatBytes(project.usage.logicalBytes)}</td></tr>`;
      }),
    );
    const canCreate = allows(
      await services.access.roleOnOrganization(caller, defaultOrganization),
      'administer',
    );
    const form = problem?.form;
    const createForm = canCreate
      ? card(
          'Create a project',
          html`${alert(problem?.message)}<form class="stack" method="post" action="/projects">${csrf(viewer)}
<div class="field"><label for="projectId">Project ID</label>${idInput('projectId', 'projectId', typed(form, 'projectId'), true, `Part of every image name: HOST/PROJECT/REPOSITORY/IMAGE. ${idRules}`)}</div>
<div class="field"><label for="displayName">Display name (optional)</label><input id="displayName" name="displayName" type="text" maxlength="100" value="${typed(form, 'displayName')}"></div>
<div class="field"><label for="description">Description (optional)</label><textarea id="description" name="description" maxlength="2048">${typed(form, 'description')}</textarea></div>
<div class="actions"><button class="primary" type="submit">Create project</button></div>
</form>`,
        )
      : '';
    const list =
      projects.items.length === 0
        ? html`<p class="empty">${viewer.login ? 'There is no project you can see yet.' : 'There is no public project. Sign in to see yours.'}</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col" class="wide">Description</th><th scope="col" class="num">Repositories</th><th scope="col" class="num">Storage</th></tr></thead><tbody>${rows}</tbody></table></div>`;
    return page(
      { title: 'Projects', viewer, section: 'projects' },
      html`${pageHead('Projects', 'Projects hold repositories; a repository holds images.')}${notice(doneNotice(request))}${card(undefined, list)}${createForm}`,
    );
  };

  return [
    { name: 'console-home', pattern: /^\/$/, render },
    {
      name: 'console-projects',
      pattern: /^\/projects$/,
      render,
      post: {
        page: render,
        act: async ({ caller }, form) => {
          const input = formBody(newProject, form, {
            text: ['projectId', 'displayName', 'description'],
          });
          const created = await services.projects.create(caller, input);
          return { redirect: `/projects/${created.id}`, notice: 'project-created' };
        },
      },
    },
  ];
}
