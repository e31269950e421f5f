import type { ManagementServices } from '../../api/api-routes.js';
import { type RepositoryView, repositoryChanges } from '../../api/repositories/repository-service.js';
import { RegistryError } from '../../errors/registry-error.js';
import { allows } from '../../iam/policy.js';
import { allUsers } from '../../iam/principals.js';
import type { RoleLevel } from '../../iam/roles.js';
import { type ConsolePage, type ConsoleRequest, doneNotice } from '../console-page.js';
import {
  alert,
  card,
  command,
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
import { projectPath } from './project.js';
import { securityPolicyCard } from './security-policy-card.js';

export const repositoryPath = (project: string, repository: string) =>
  `${projectPath(project)}/repositories/${repository}`;

export const imagePath = (project: string, repository: string, image: string) =>
  `${repositoryPath(project, repository)}/images/${encodeURIComponent(image)}`;

type RepositoryTab = 'images' | 'permissions' | 'settings' | 'setup';

export interface RepositoryContext {
  readonly repository: RepositoryView;
  readonly role: RoleLevel;
}

/** The repository, after the one access check: a caller who may not read it gets a 404 (or a sign-in page). */
export async function loadRepository(
  services: ManagementServices,
  request: ConsoleRequest,
): Promise<RepositoryContext> {
  const project = request.param('project');
  const id = request.param('repository');
  const role = await services.access.repository(request.caller, project, id, 'read');
  return { repository: await services.repositories.get(request.caller, project, id), role };
}

/** The repository's header (with whether it is public) and its tabs. */
export async function repositoryFrame(
  services: ManagementServices,
  request: ConsoleRequest,
  context: RepositoryContext,
  current: RepositoryTab,
  body: SafeHtml,
  extraCrumbs: { label: string; href?: string }[] = [],
): Promise<SafeHtml> {
  const { repository, role } = context;
  const base = repositoryPath(repository.project, repository.id);
  const owner = allows(role, 'administer');
  const publicAccess = await services.iam.publicAccess(request.caller, repository.project, repository.id);
  const badges = html`${onOff(repository.scanning, ['Scanning on', 'Scanning off'])} ${onOff(repository.immutableTags, ['Immutable tags', 'Mutable tags'])} ${
    publicAccess
      ? html`<span class="badge public" title="${publicAccess === allUsers ? 'Anyone, signed in or not, can pull from it' : 'Anyone signed in can pull from it'}">${publicAccess === allUsers ? 'Public' : 'All signed-in users'}</span>`
      : ''
  } <span class="badge">Your role: ${role}</span>`;
  return page(
    {
      title: repository.name,
      viewer: request.viewer,
      section: 'projects',
      crumbs: [
        { label: 'Projects', href: '/' },
        { label: repository.project, href: projectPath(repository.project) },
        { label: repository.id, ...(extraCrumbs.length ? { href: base } : {}) },
        ...extraCrumbs,
      ],
    },
    html`${pageHead(repository.displayName || repository.id, html`<code>${repository.name}</code>${repository.description ? html` · ${repository.description}` : ''}`)}<p>${badges}</p>${tabs(
      [
        { label: 'Images', href: base, current: current === 'images' },
        ...(owner
          ? [{ label: 'Permissions', href: `${base}/permissions`, current: current === 'permissions' }]
          : []),
        ...(owner ? [{ label: 'Settings', href: `${base}/settings`, current: current === 'settings' }] : []),
        { label: 'Setup', href: `${base}/setup`, current: current === 'setup' },
      ],
    )}${notice(doneNotice(request))}${body}`,
  );
}

export function repositoryPages(services: ManagementServices): ConsolePage[] {
  const base = /^\/projects\/(?<project>[^/]+)\/repositories\/(?<repository>[^/]+)/.source;

  const images: NonNullable<ConsolePage['render']> = async (request) => {
    const context = await loadRepository(services, request);
    const { project, id } = context.repository;
    const filter = (request.query.get('filter') ?? '').trim().toLowerCase();
    const all = await services.images.listings(request.caller, project, id);
    const shown = filter ? all.filter((image) => image.name.includes(filter)) : all;
    const rows = shown.map(
      (image) =>
        html`<tr data-name="${image.name}"><td data-label="Image"><a href="${imagePath(project, id, image.name)}"><strong>${image.name}</strong></a></td><td data-label="Tags" class="num">${image.tags}</td><td data-label="Latest tag">${image.latestTag ? html`<span class="tag">${image.latestTag}</span>` : html`<span class="muted">—</span>`}</td><td data-label="Digests" class="num wide">${image.digests}</td><td data-label="Size" class="num">${formatBytes(image.size)}</td><td data-label="Last push" class="nowrap">${time(image.updatedAt)}</td></tr>`,
    );
    const body =
      all.length === 0
        ? html`<p class="empty">No images yet. The <a href="${repositoryPath(project, id)}/setup">Setup</a> tab shows how to push one.</p>`
        : html`<form class="inline toolbar" method="get" role="search"><div class="field"><label for="filter">Filter by name</label><input id="filter" name="filter" type="search" value="${filter}" data-filter-rows="images"></div><button type="submit">Filter</button></form>
<div class="table-wrap"><table id="images" class="cards"><thead><tr><th scope="col">Image</th><th scope="col" class="num">Tags</th><th scope="col">Latest tag</th><th scope="col" class="num wide">Digests</th><th scope="col" class="num">Size</th><th scope="col">Last push</th></tr></thead><tbody>${rows}</tbody></table></div>${
            shown.length === 0 ? html`<p class="empty">No image name contains “${filter}”.</p>` : ''
          }<p class="hint">Size is that of each image's latest push.</p>`;
    return repositoryFrame(services, request, context, 'images', card(undefined, body));
  };

  const settings: NonNullable<ConsolePage['render']> = async (request, problem) => {
    const context = await loadRepository(services, request);
    const { repository } = context;
    // Settings are the owner's: the same check the update makes, before showing the form.
    await services.access.repository(request.caller, repository.project, repository.id, 'administer');
    const path = repositoryPath(repository.project, repository.id);
    const form = problem?.form;
    const deleting = form?.has('confirm');
    const edit = card(
      'Settings',
      html`${deleting ? '' : alert(problem?.message)}<form class="stack" method="post" action="${path}/settings">${csrf(request.viewer)}
<div class="field"><label for="displayName">Display name</label><input id="displayName" name="displayName" type="text" maxlength="100" value="${typed(form, 'displayName', repository.displayName)}"></div>
<div class="field"><label for="description">Description</label><textarea id="description" name="description" maxlength="2048">${typed(form, 'description', repository.description)}</textarea></div>
<label class="check"><input type="checkbox" name="scanning"${checked(form, 'scanning', repository.scanning) ? html` checked` : ''}><span><strong>Vulnerability scanning</strong><br><span class="hint">Scan every image pushed from now on.</span></span></label>
<label class="check"><input type="checkbox" name="immutableTags"${checked(form, 'immutableTags', repository.immutableTags) ? html` checked` : ''}><span><strong>Immutable tags</strong><br><span class="hint">Existing tags can be neither moved nor deleted.</span></span></label>
<div class="actions"><button class="primary" type="submit">Save</button></div>
</form>`,
    );
    const remove = card(
      'Delete repository',
      html`${deleting ? alert(problem?.message) : ''}<p class="warning">Deleting <code>${repository.name}</code> deletes every image, digest and tag in it and the permissions on it. It cannot be undone.</p>
<form class="stack" method="post" action="${path}/delete">${csrf(request.viewer)}
<div class="field"><label for="confirm">Type <code>${repository.id}</code> to confirm</label><input id="confirm" name="confirm" type="text" autocomplete="off" spellcheck="false" data-confirm-text="${repository.id}" required></div>
<div class="actions"><button class="danger" type="submit">Delete repository</button></div>
</form>`,
    );
    const policy = securityPolicyCard(
      await services.securityPolicies.getRepository(request.caller, repository.project, repository.id),
    );
    return repositoryFrame(services, request, context, 'settings', html`${edit}${policy}${remove}`);
  };

  const setup: NonNullable<ConsolePage['render']> = async (request) => {
    const context = await loadRepository(services, request);
    const { project, id, name } = context.repository;
    const host = new URL(request.origin).host;
    const [first] = await services.images.listings(request.caller, project, id);
    const image = first?.name ?? 'my-image';
    const full = `${host}/${name}/${image}`;
    const secure = request.origin.startsWith('https:');
    const insecure = secure ? '' : ' (plain HTTP: Docker allows it for localhost and 127.0.0.0/8 only)';
    const github = `- name: Sign in to Mistrive
  env:
    MISTRIVE_KEY: \${{ secrets.MISTRIVE_KEY }}
  run: echo "$MISTRIVE_KEY" | docker login ${host} -u _json_key_base64 --password-stdin
- name: Build and push
  run: |
    docker build -t ${full}:\${{ github.sha }} .
    docker push ${full}:\${{ github.sha }}`;
    const gitlab = `push-image:
  image: docker:27
  services: [docker:27-dind]
  script:
    - echo "$MISTRIVE_KEY" | docker login ${host} -u _json_key_base64 --password-stdin
    - docker build -t ${full}:$CI_COMMIT_SHORT_SHA .
    - docker push ${full}:$CI_COMMIT_SHORT_SHA`;
    const body = html`${card(
      '1. Let Docker sign in with your Mistrive account',
      html`<p>Once per machine, after <code>mistrive auth login</code>: Docker, podman, skopeo and buildah then get short-lived credentials from the Mistrive credential helper${insecure}.</p>${command('cmd-configure', `mistrive auth configure-docker ${host}`, 'Configure Docker')}`,
    )}${card(
      '2. Push an image',
      html`${command('cmd-tag', `docker tag ${image}:latest ${full}:latest`, 'Tag the image')}${command('cmd-push', `docker push ${full}:latest`, 'Push')}`,
    )}${card('3. Pull it', command('cmd-pull', `docker pull ${full}:latest`, 'Pull'))}${card(
      'CI with a service-account key',
      html`<p>Create a service account with the editor role on this repository and a key for it (project owners: <em>Service accounts</em> tab of the project), then store <code>base64 -w0 KEY.json</code> as the CI secret <code>MISTRIVE_KEY</code>.</p>
<h3>GitHub Actions</h3>${command('cmd-github', github, 'GitHub Actions steps')}
<h3>GitLab CI</h3>${command('cmd-gitlab', gitlab, 'GitLab CI job')}`,
    )}`;
    return repositoryFrame(services, request, context, 'setup', body);
  };

  return [
    { name: 'console-repository', pattern: new RegExp(`${base}$`), render: images },
    {
      name: 'console-repository-settings',
      pattern: new RegExp(`${base}/settings$`),
      render: settings,
      post: {
        page: settings,
        act: async ({ caller, param }, form) => {
          const changes = formBody(repositoryChanges, form, {
            text: ['displayName', 'description'],
            checks: ['scanning', 'immutableTags'],
          });
          const updated = await services.repositories.update(
            caller,
            param('project'),
            param('repository'),
            changes,
          );
          return {
            redirect: `${repositoryPath(updated.project, updated.id)}/settings`,
            notice: 'repository-updated',
          };
        },
      },
    },
    {
      name: 'console-repository-delete',
      pattern: new RegExp(`${base}/delete$`),
      post: {
        page: settings,
        act: async ({ caller, param }, form) => {
          const project = param('project');
          const repository = param('repository');
          if (form.get('confirm') !== repository) {
            // Checked after the access check, so the answer says nothing to those who may not see it.
            await services.access.repository(caller, project, repository, 'administer');
            throw new RegistryError(
              'INVALID_ARGUMENT',
              `type the repository ID ${repository} to confirm the deletion`,
            );
          }
          await services.repositories.delete(caller, project, repository);
          return { redirect: projectPath(project), notice: 'repository-deleted' };
        },
      },
    },
    { name: 'console-repository-setup', pattern: new RegExp(`${base}/setup$`), render: setup },
  ];
}
