import type { ManagementServices } from '../../api/api-routes.js';
import { newRepository } from '../../api/repositories/repository-service.js';
import { allows } from '../../iam/policy.js';
import type { RoleLevel } from '../../iam/roles.js';
import { type ConsolePage, type ConsoleRequest, doneNotice } from '../console-page.js';
import {
  alert,
  card,
  csrf,
  formatBytes,
  html,
  notice,
  onOff,
  page,
  pageHead,
  type SafeHtml,
  tabs,
  time,
} from '../layout.js';
import { checked, formBody, typed } from './forms.js';
import { idInput, idRules } from './projects.js';

export const projectPath = (project: string) => `/projects/${project}`;

type ProjectTab = 'repositories' | 'permissions' | 'service-accounts';

/** The project's header and tabs; the permission and service-account tabs only for its owners. */
export function projectFrame(
  request: ConsoleRequest,
  project: { id: string; displayName: string; description: string },
  role: RoleLevel | undefined,
  current: ProjectTab,
  body: SafeHtml,
): SafeHtml {
  const base = projectPath(project.id);
  const owner = allows(role, 'administer');
  return page(
    {
      title: project.id,
      viewer: request.viewer,
      section: 'projects',
      crumbs: [{ label: 'Projects', href: '/' }, { label: project.id }],
    },
    html`${pageHead(project.displayName || project.id, project.description || html`Project <code>${project.id}</code>`)}${tabs(
      [
        { label: 'Repositories', href: base, current: current === 'repositories' },
        ...(owner
          ? [
              { label: 'Permissions', href: `${base}/permissions`, current: current === 'permissions' },
              {
                label: 'Service accounts',
                href: `${base}/service-accounts`,
                current: current === 'service-accounts',
              },
            ]
          : []),
      ],
    )}${notice(doneNotice(request))}${body}`,
  );
}

/** A project's repositories, with the Create Repository form for those who may create them. */
export function projectPages(services: ManagementServices): ConsolePage[] {
  const render: NonNullable<ConsolePage['render']> = async (request, problem) => {
    const { caller } = request;
    const id = request.param('project');
    const role = await services.access.project(caller, id, 'see');
    const project = await services.projects.get(caller, id);
    const repositories = await services.repositories.list(caller, id, {
      pageSize: 1000,
      pageToken: undefined,
    });
    const rows = await Promise.all(
      repositories.items.map(async (repository) => {
        const images = await services.images.listings(caller, id, repository.id);
        const last = images
          .map((image) => image.updatedAt)
          .sort()
          .at(-1);
        return html`<tr><td data-label="ID"><a href="${projectPath(id)}/repositories/${repository.id}"><strong>${repository.id}</strong></a></td><td data-label="Name">${repository.displayName || html`<span class="muted">—</span>`}</td><td data-label="Description" class="wide">${repository.description}</td><td data-label="Scanning">${onOff(repository.scanning)}</td><td data-label="Tags">${onOff(repository.immutableTags, ['Immutable', 'Mutable'])}</td><td data-label="Images" class="num">${images.length}</td><td data-label="Size" class="num">${formatBytes(repository.usage.logicalBytes)}</td><td data-label="Last push" class="nowrap">${time(last)}</td></tr>`;
      }),
    );
    const list =
      repositories.items.length === 0
        ? html`<p class="empty">No repositories yet.</p>`
        : html`<div class="table-wrap"><table class="cards"><thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col" class="wide">Description</th><th scope="col">Scanning</th><th scope="col">Tags</th><th scope="col" class="num">Images</th><th scope="col" class="num">Size</th><th scope="col">Last push</th></tr></thead><tbody>${rows}</tbody></table></div><p class="hint">Size is the storage a repository uses: every blob and manifest it holds, each counted once.</p>`;
    const form = problem?.form;
    const create = allows(role, 'createRepository')
      ? card(
          'Create repository',
          html`${alert(problem?.message)}<form class="stack" method="post" action="${projectPath(id)}/repositories">${csrf(request.viewer)}
<div class="field"><label for="displayName">Display name</label><input id="displayName" name="displayName" type="text" maxlength="100" value="${typed(form, 'displayName')}"><p class="hint">The ID is made from it when you leave the ID empty.</p></div>
<div class="field"><label for="repositoryId">Repository ID (optional)</label>${idInput('repositoryId', 'repositoryId', typed(form, 'repositoryId'), false, idRules)}</div>
<div class="field"><label for="description">Description (optional)</label><textarea id="description" name="description" maxlength="2048">${typed(form, 'description')}</textarea></div>
<label class="check"><input type="checkbox" name="scanning"${checked(form, 'scanning', true) ? html` checked` : ''}><span><strong>Vulnerability scanning</strong><br><span class="hint">Scan every pushed image with Trivy.</span></span></label>
<label class="check"><input type="checkbox" name="immutableTags"${checked(form, 'immutableTags', false) ? html` checked` : ''}><span><strong>Immutable tags</strong><br><span class="hint">A tag, once pushed, can be neither moved nor deleted.</span></span></label>
<div class="actions"><button class="primary" type="submit">Create repository</button></div>
</form>`,
        )
      : '';
    return projectFrame(request, project, role, 'repositories', html`${card(undefined, list)}${create}`);
  };

  return [
    { name: 'console-project', pattern: /^\/projects\/(?<project>[^/]+)$/, render },
    {
      name: 'console-create-repository',
      pattern: /^\/projects\/(?<project>[^/]+)\/repositories$/,
      render,
      post: {
        page: render,
        act: async ({ caller, param }, form) => {
          const project = param('project');
          const input = formBody(newRepository, form, {
            text: ['displayName', 'description'],
            optional: ['repositoryId'],
            checks: ['scanning', 'immutableTags'],
          });
          const created = await services.repositories.create(caller, project, input);
          return {
            redirect: `${projectPath(project)}/repositories/${created.id}`,
            notice: 'repository-created',
          };
        },
      },
    },
  ];
}
