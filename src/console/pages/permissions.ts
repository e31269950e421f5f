import type { ManagementServices } from '../../api/api-routes.js';
import { bindingInput, type PolicyTarget, type PolicyView } from '../../api/iam/iam-policy-service.js';
import { allAuthenticatedUsers, allUsers } from '../../iam/principals.js';
import { rolesFor } from '../../iam/roles.js';
import type { ConsolePage, ConsoleRequest, Problem, Render } from '../console-page.js';
import { doneNotice } from '../console-page.js';
import { alert, card, csrf, html, notice, page, pageHead, type SafeHtml } from '../layout.js';
import { formBody, typed } from './forms.js';
import { projectFrame, projectPath } from './project.js';
import { loadRepository, repositoryFrame, repositoryPath } from './repository.js';

const roleTitles: Record<string, string> = {
  viewer: 'Viewer',
  editor: 'Editor',
  owner: 'Owner',
  'artifactstore.viewer': 'Artifact Store Viewer',
  'artifactstore.editor': 'Artifact Store Editor',
  'artifactstore.owner': 'Artifact Store Owner',
};

const roleDescriptions: Record<string, string> = {
  viewer: 'pull, list images and tags, read vulnerability reports',
  editor: 'the above, and push, create and move tags',
  owner: 'the above, and delete, change settings and permissions',
};

const levelOf = (role: string) => role.replace(/^artifactstore\./, '');

function targetOf(request: ConsoleRequest, kind: PolicyTarget['kind']): PolicyTarget {
  const { param } = request;
  if (kind === 'organization') return { kind, organization: param('organization') };
  if (kind === 'project') return { kind, project: param('project') };
  return { kind, project: param('project'), repository: param('repository') };
}

function pathOf(target: PolicyTarget): string {
  if (target.kind === 'organization') return `/organizations/${target.organization}/permissions`;
  if (target.kind === 'project') return `${projectPath(target.project)}/permissions`;
  return `${repositoryPath(target.project, target.repository)}/permissions`;
}

/** `organizations/default` → “organization default”, for “inherited from …”. */
function sourceLabel(resource: string): string {
  const parts = resource.split('/');
  return parts[0] === 'organizations' ? `organization ${parts[1]}` : `project ${parts[1]}`;
}

interface Member {
  readonly member: string;
  readonly from: string | undefined;
}

/** Bindings grouped by role level, strongest last; inherited ones carry where they come from. */
function groups(own: PolicyView, inherited: readonly PolicyView[]): Map<string, Member[]> {
  const byLevel = new Map<string, Member[]>([
    ['viewer', []],
    ['editor', []],
    ['owner', []],
  ]);
  for (const policy of [...inherited, own]) {
    const from = policy === own ? undefined : sourceLabel(policy.resource);
    for (const binding of policy.bindings) {
      const list = byLevel.get(levelOf(binding.role));
      for (const member of binding.members) list?.push({ member, from });
    }
  }
  return byLevel;
}

function policyBody(
  request: ConsoleRequest,
  target: PolicyTarget,
  own: PolicyView,
  inherited: PolicyView[],
  problem?: Problem,
): SafeHtml {
  const roles = rolesFor(target.kind);
  const action = pathOf(target);
  const sections = [...groups(own, inherited)].map(([level, members]) => {
    const role = roles.find((name) => levelOf(name) === level) as string;
    const items = members.map(
      ({ member, from }) =>
        html`<li><span><code>${member}</code>${member === allUsers ? html` <span class="badge public">anyone, signed in or not</span>` : member === allAuthenticatedUsers ? html` <span class="badge public">anyone signed in</span>` : ''}${from ? html` <span class="from">inherited from ${from}</span>` : ''}</span>${
          from
            ? ''
            : html`<form method="post" action="${action}/remove">${csrf(request.viewer)}<input type="hidden" name="member" value="${member}"><input type="hidden" name="role" value="${role}"><button type="submit" class="small danger" aria-label="Remove ${member} from ${roleTitles[role]}">Remove</button></form>`
        }</li>`,
    );
    return html`<div class="role-group"><h3>${roleTitles[role]} <span class="muted small">(${members.length})</span></h3><p class="hint">${roleDescriptions[level]}</p>${
      members.length ? html`<ul class="members">${items}</ul>` : html`<p class="empty">Nobody.</p>`
    }</div>`;
  });
  const form = problem?.form;
  const chosen = typed(form, 'role', roles[0]);
  const add = card(
    'Add principal',
    html`${alert(problem?.message)}<form class="stack" method="post" action="${action}">${csrf(request.viewer)}
<div class="field"><label for="member">Principal</label><input id="member" name="member" type="text" required autocomplete="off" spellcheck="false" placeholder="user:EMAIL" value="${typed(form, 'member')}" aria-describedby="member-hint"><p class="hint" id="member-hint"><code>user:EMAIL</code>, <code>serviceAccount:EMAIL</code>, <code>allUsers</code> or <code>allAuthenticatedUsers</code>. The last two can only be given the viewer role: public access stays read-only.</p></div>
<div class="field"><label for="role">Role</label><select id="role" name="role">${roles.map(
      (role) =>
        html`<option value="${role}"${role === chosen ? html` selected` : ''}>${roleTitles[role]}</option>`,
    )}</select></div>
<div class="actions"><button class="primary" type="submit">Save</button></div>
</form>`,
  );
  const inheritedNote =
    inherited.length > 0
      ? html`<p class="hint">Roles granted on the ${inherited.map((policy) => sourceLabel(policy.resource)).join(' and ')} apply here too.</p>`
      : '';
  return html`${card('Who has access', html`${inheritedNote}${sections}<p class="hint">The instance administrator, <code>admin</code>, is owner everywhere.</p>`)}${add}`;
}

/** The Permissions tab of the organization, a project and a repository: reading and changing it takes owner. */
export function permissionPages(services: ManagementServices): ConsolePage[] {
  const renderFor =
    (kind: PolicyTarget['kind']): Render =>
    async (request, problem) => {
      const target = targetOf(request, kind);
      const { policy, inherited } = await services.iam.getWithInherited(request.caller, target);
      const body = policyBody(request, target, policy, inherited, problem);
      if (target.kind === 'repository') {
        return repositoryFrame(
          services,
          request,
          await loadRepository(services, request),
          'permissions',
          body,
        );
      }
      if (target.kind === 'project') {
        const role = await services.access.project(request.caller, target.project, 'see');
        return projectFrame(
          request,
          await services.projects.get(request.caller, target.project),
          role,
          'permissions',
          body,
        );
      }
      return page(
        { title: 'Organization permissions', viewer: request.viewer, section: 'organization' },
        html`${pageHead(`Organization ${target.organization}`, 'Roles granted here apply to every project and repository in the organization.')}${notice(doneNotice(request))}${body}`,
      );
    };

  const change =
    (kind: PolicyTarget['kind'], remove: boolean) =>
    async (request: ConsoleRequest, form: URLSearchParams) => {
      const target = targetOf(request, kind);
      const binding = formBody(bindingInput, form, { text: ['member', 'role'] });
      if (remove) await services.iam.removeBinding(request.caller, target, binding);
      else await services.iam.addBinding(request.caller, target, binding);
      return {
        redirect: pathOf(target),
        notice: remove ? ('binding-removed' as const) : ('binding-added' as const),
      };
    };

  const patterns = {
    organization: /^\/organizations\/(?<organization>[^/]+)\/permissions/.source,
    project: /^\/projects\/(?<project>[^/]+)\/permissions/.source,
    repository: /^\/projects\/(?<project>[^/]+)\/repositories\/(?<repository>[^/]+)\/permissions/.source,
  };
  return (Object.keys(patterns) as PolicyTarget['kind'][]).flatMap((kind): ConsolePage[] => {
    const render = renderFor(kind);
    return [
      {
        name: `console-${kind}-permissions`,
        pattern: new RegExp(`${patterns[kind]}$`),
        render,
        post: { page: render, act: change(kind, false) },
      },
      {
        name: `console-${kind}-permissions-remove`,
        pattern: new RegExp(`${patterns[kind]}/remove$`),
        post: { page: render, act: change(kind, true) },
      },
    ];
  });
}
