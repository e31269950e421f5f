import { z } from 'zod';
import type { ManagementServices } from '../../api/api-routes.js';
import { digestParam, tagParam } from '../../api/images/image-routes.js';
import type { DigestView } from '../../api/images/image-service.js';
import type { TagFilter } from '../../db/resources.js';
import { allows } from '../../iam/policy.js';
import type { ConsolePage, ConsoleRequest, Render } from '../console-page.js';
import { alert, card, command, csrf, formatBytes, html, type SafeHtml, time } from '../layout.js';
import { formBody, typed } from './forms.js';
import { imagePath, loadRepository, repositoryFrame } from './repository.js';
import { scanCell } from './scans.js';

export const digestPath = (project: string, repository: string, image: string, digest: string) =>
  `${imagePath(project, repository, image)}/digests/${digest}`;

export const imagePattern =
  /^\/projects\/(?<project>[^/]+)\/repositories\/(?<repository>[^/]+)\/images\/(?<image>[^/]+)/.source;

const pageSize = 100;

/** The project, repository and image a route under an image names. */
export function imageOf(param: ConsoleRequest['param']) {
  return { project: param('project'), repository: param('repository'), image: param('image') };
}
const tagTarget = z.object({ tag: tagParam, digest: digestParam });
const tagFilters: readonly TagFilter[] = ['all', 'tagged', 'untagged'];

/** The created time with where it comes from: the image config, or the push when there is none. */
export function createdCell(digest: DigestView): SafeHtml {
  return digest.imageCreatedAt
    ? html`${time(digest.imageCreatedAt)}<div class="hint">image config</div>`
    : html`${time(digest.createdAt)}<div class="hint">pushed (no config time)</div>`;
}

export function platformsOf(digest: DigestView): string {
  return (digest.platforms ?? [])
    .map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/'))
    .join(', ');
}

function chip(
  request: ConsoleRequest,
  name: string,
  value: string,
  label: string,
  current: boolean,
): SafeHtml {
  const query = new URLSearchParams(request.query);
  query.set(name, value);
  query.delete('page');
  query.delete('done');
  return html`<a href="?${query.toString()}"${current ? html` aria-current="true"` : ''}>${label}</a>`;
}

/** An image's digests, a page at a time by push time, with tags, size, created time and scan summary. */
export function imagePages(services: ManagementServices): ConsolePage[] {
  const render: Render = async (request, problem) => {
    const context = await loadRepository(services, request);
    const { project, id } = context.repository;
    const image = request.param('image');
    const newestFirst = request.query.get('order') !== 'oldest';
    const filter = (tagFilters as readonly string[]).includes(request.query.get('tags') ?? '')
      ? (request.query.get('tags') as TagFilter)
      : 'all';
    const digests = await services.images.listDigestsByPushTime(request.caller, project, id, image, {
      newestFirst,
      tags: filter,
      pageSize,
      pageToken: request.query.get('page') ?? undefined,
    });
    const host = new URL(request.origin).host;
    const reference = `${host}/${context.repository.name}/${image}`;
    const canTag = allows(context.role, 'write');
    const canDelete = allows(context.role, 'delete');
    const base = imagePath(project, id, image);

    const rows = digests.items.map((digest, index) => {
      const link = digestPath(project, id, image, digest.digest);
      const tags = digest.tags.length
        ? digest.tags.map(
            (tag) =>
              html`<span class="tag">${tag}${canDelete ? html` <a href="${base}/tags/${encodeURIComponent(tag)}/delete" aria-label="Delete tag ${tag}" title="Delete tag ${tag}">×</a>` : ''}</span>`,
          )
        : html`<span class="muted">untagged</span>`;
      return html`<tr><td data-label="Digest"><a class="mono" href="${link}" title="${digest.digest}">${digest.digest.slice(7, 19)}</a>${
        digest.artifactType ? html`<div class="hint">${digest.artifactType}</div>` : ''
      }${platformsOf(digest) ? html`<div class="hint">${platformsOf(digest)}</div>` : ''}</td><td data-label="Tags">${tags}</td><td data-label="Size" class="num">${formatBytes(digest.size)}</td><td data-label="Created" class="nowrap">${createdCell(digest)}</td><td data-label="Vulnerabilities">${scanCell(digest.scan)}</td><td data-label="Actions" class="wide"><details><summary>Pull</summary>${command(`pull-${index}`, `docker pull ${reference}@${digest.digest}`, 'Pull by digest')}</details>${
        canDelete ? html`<a class="small" href="${link}/delete">Delete…</a>` : ''
      }</td></tr>`;
    });

    const next = digests.nextPageToken
      ? (() => {
          const query = new URLSearchParams(request.query);
          query.set('page', digests.nextPageToken);
          query.delete('done');
          return html`<a class="button" href="?${query.toString()}">Next ${pageSize} →</a>`;
        })()
      : '';
    const first = request.query.get('page')
      ? (() => {
          const query = new URLSearchParams(request.query);
          query.delete('page');
          query.delete('done');
          return html`<a class="button" href="?${query.toString()}">← First page</a>`;
        })()
      : '';
    const toolbar = html`<div class="toolbar"><nav class="chips" aria-label="Show">${chip(request, 'tags', 'all', 'All', filter === 'all')}${chip(request, 'tags', 'tagged', 'Tagged', filter === 'tagged')}${chip(request, 'tags', 'untagged', 'Untagged', filter === 'untagged')}</nav><nav class="chips" aria-label="Order">${chip(request, 'order', 'newest', 'Newest first', newestFirst)}${chip(request, 'order', 'oldest', 'Oldest first', !newestFirst)}</nav></div>`;
    const table =
      digests.items.length === 0
        ? html`<p class="empty">No ${filter === 'all' ? '' : `${filter} `}digests.</p>`
        : html`<div class="table-wrap"><table class="cards"><thead><tr><th scope="col">Digest</th><th scope="col">Tags</th><th scope="col" class="num">Size</th><th scope="col">Created</th><th scope="col">Vulnerabilities</th><th scope="col" class="wide">Actions</th></tr></thead><tbody>${rows}</tbody></table></div>`;
    const form = problem?.form;
    const tagForm = canTag
      ? card(
          'Add or move a tag',
          html`${alert(problem?.message)}<form class="inline" method="post" action="${base}/tags">${csrf(request.viewer)}
<div class="field"><label for="tag">Tag</label><input id="tag" name="tag" type="text" required maxlength="128" pattern="[a-zA-Z0-9_][a-zA-Z0-9._\\-]{0,127}" value="${typed(form, 'tag')}" autocomplete="off" spellcheck="false"></div>
<div class="field"><label for="digest">Digest</label><input id="digest" name="digest" type="text" required list="page-digests" placeholder="sha256:…" value="${typed(form, 'digest')}" autocomplete="off" spellcheck="false"><datalist id="page-digests">${digests.items.map((d) => html`<option value="${d.digest}">${d.tags.join(', ')}</option>`)}</datalist></div>
<button class="primary" type="submit">Save tag</button></form>
<p class="hint">A tag that exists moves to the digest${context.repository.immutableTags ? ' — not in this repository: its tags are immutable' : ''}.</p>`,
        )
      : '';
    return repositoryFrame(
      services,
      request,
      context,
      'images',
      html`<h2 class="subject mono">${image}</h2>${command('pull-tag', `docker pull ${reference}:TAG`, 'Pull by tag')}${card(undefined, html`${toolbar}${table}<div class="pager"><span class="muted small">${digests.items.length} shown, ${pageSize} per page</span><span class="actions">${first}${next}</span></div>`)}${tagForm}`,
      [{ label: image }],
    );
  };

  const confirmPage =
    (kind: 'tag' | 'digest'): Render =>
    async (request, problem) => {
      const context = await loadRepository(services, request);
      const { project, id } = context.repository;
      const image = request.param('image');
      await services.access.repository(request.caller, project, id, 'delete');
      const base = imagePath(project, id, image);
      let body: SafeHtml;
      if (kind === 'tag') {
        const tag = request.param('tag');
        body = card(
          `Delete tag ${tag}?`,
          html`${alert(problem?.message)}<p>The tag <span class="tag">${tag}</span> of <code>${context.repository.name}/${image}</code> goes; the digest it points at stays.</p>
<form method="post">${csrf(request.viewer)}<div class="actions"><button class="danger" type="submit">Delete tag</button><a href="${base}">Cancel</a></div></form>`,
        );
      } else {
        const digest = await services.images.getDigest(
          request.caller,
          project,
          id,
          image,
          request.param('digest'),
        );
        body = card(
          'Delete this digest?',
          html`${alert(problem?.message)}<p><code>${digest.digest}</code> of <code>${context.repository.name}/${image}</code> is deleted${
            digest.tags.length
              ? html`, with the tags that point at it: ${digest.tags.map((tag) => html`<span class="tag">${tag}</span>`)}`
              : html`. No tag points at it`
          }. It cannot be undone.</p>
<form method="post">${csrf(request.viewer)}<div class="actions"><button class="danger" type="submit">Delete digest${digest.tags.length ? ` and ${digest.tags.length} tag${digest.tags.length > 1 ? 's' : ''}` : ''}</button><a href="${base}">Cancel</a></div></form>`,
        );
      }
      return repositoryFrame(services, request, context, 'images', body, [
        { label: image, href: base },
        { label: 'Delete' },
      ]);
    };

  const deleteTag = confirmPage('tag');
  const deleteDigest = confirmPage('digest');
  return [
    { name: 'console-image', pattern: new RegExp(`${imagePattern}$`), render },
    {
      name: 'console-image-tags',
      pattern: new RegExp(`${imagePattern}/tags$`),
      post: {
        page: render,
        act: async ({ caller, param }, form) => {
          const { project, repository, image } = imageOf(param);
          const target = formBody(tagTarget, form, { text: ['tag', 'digest'] });
          await services.images.setTag(caller, project, repository, image, target.tag, target.digest);
          return { redirect: imagePath(project, repository, image), notice: 'tag-set' };
        },
      },
    },
    {
      name: 'console-tag-delete',
      pattern: new RegExp(`${imagePattern}/tags/(?<tag>[^/]+)/delete$`),
      render: deleteTag,
      post: {
        page: deleteTag,
        act: async ({ caller, param }) => {
          const { project, repository, image } = imageOf(param);
          const tag = param('tag');
          await services.images.deleteTag(caller, project, repository, image, tag);
          return { redirect: imagePath(project, repository, image), notice: 'tag-deleted' };
        },
      },
    },
    {
      name: 'console-digest-delete',
      pattern: new RegExp(`${imagePattern}/digests/(?<digest>[^/]+)/delete$`),
      render: deleteDigest,
      post: {
        page: deleteDigest,
        act: async ({ caller, param }) => {
          const { project, repository, image } = imageOf(param);
          const digest = param('digest');
          await services.images.deleteDigest(caller, project, repository, image, digest);
          return { redirect: imagePath(project, repository, image), notice: 'digest-deleted' };
        },
      },
    },
  ];
}
