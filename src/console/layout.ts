import { html, type SafeHtml } from '../auth/oauth/html.js';
import { oauthPaths } from '../auth/oauth/public-urls.js';
import { csrfField } from '../auth/oauth/web-sessions.js';
import { type Severity, severities } from '../db/scans.js';
import { formatByteSize } from '../lib/byte-sizes.js';
import { assetUrl } from './assets.js';

/**
 * The console's page shell and the small pieces its pages are made of. Everything goes through the
 * `html` tag, which escapes every value it is given: no page writes markup from data by hand.
 */

/** Who is looking: what the header shows and what forms carry. */
export interface Viewer {
  readonly login: string | undefined;
  readonly admin: boolean;
  readonly csrfToken: string | undefined;
  /** The path and query of the page, to come back to after signing in. */
  readonly path: string;
}

export interface Crumb {
  readonly label: string;
  readonly href?: string;
}

export interface Shell {
  readonly title: string;
  readonly viewer: Viewer;
  readonly crumbs?: readonly Crumb[];
  /** Which top navigation entry is current. */
  readonly section?: 'projects' | 'organization' | 'users';
}

const signInHref = (viewer: Viewer) => `${oauthPaths.login}?next=${encodeURIComponent(viewer.path)}`;

function account(viewer: Viewer): SafeHtml {
  if (!viewer.login)
    return html`<div class="account"><a class="button primary" href="${signInHref(viewer)}">Sign in</a></div>`;
  return html`<div class="account"><span>Signed in as <strong>${viewer.login}</strong></span>
<form method="post" action="${oauthPaths.logout}">${csrf(viewer)}<button type="submit" class="small">Sign out</button></form></div>`;
}

function nav(shell: Shell): SafeHtml {
  const link = (section: Shell['section'], href: string, label: string) =>
    html`<a href="${href}"${shell.section === section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="topnav" aria-label="Main">${link('projects', '/', 'Projects')}${
    shell.viewer.admin
      ? html`${link('organization', '/organizations/default/permissions', 'Organization')}${link('users', '/admin/users', 'Users')}`
      : ''
  }</nav>`;
}

function crumbs(list: readonly Crumb[] | undefined): SafeHtml | string {
  if (!list || list.length === 0) return '';
  const items = list.map((crumb, index) => {
    const separator = index > 0 ? html`<span aria-hidden="true">/</span>` : '';
    return crumb.href
      ? html`${separator}<a href="${crumb.href}">${crumb.label}</a>`
      : html`${separator}<span>${crumb.label}</span>`;
  });
  return html`<nav class="crumbs" aria-label="Breadcrumb">${items}</nav>`;
}

export function page(shell: Shell, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${shell.title} · Mistrive</title>
<link rel="stylesheet" href="${assetUrl('console.css')}">
<script src="${assetUrl('console.js')}" defer></script>
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="topbar">
<a class="brand" href="/"><span class="logo" aria-hidden="true">M</span>Mistrive</a>
${nav(shell)}
${account(shell.viewer)}
</header>
<main id="content">
${crumbs(shell.crumbs)}
${body}
</main>
</body>
</html>
`;
}

/** The hidden CSRF field every state-changing form carries. */
export function csrf(viewer: Viewer): SafeHtml {
  return html`<input type="hidden" name="${csrfField}" value="${viewer.csrfToken ?? ''}">`;
}

export const alert = (message: string | undefined) =>
  message ? html`<p class="alert" role="alert">${message}</p>` : '';
export const notice = (message: string | undefined) =>
  message ? html`<p class="notice" role="status">${message}</p>` : '';

export function pageHead(
  title: string,
  subtitle: SafeHtml | string = '',
  actions: SafeHtml | string = '',
): SafeHtml {
  return html`<div class="page-head"><div><h1>${title}</h1>${subtitle ? html`<p class="sub">${subtitle}</p>` : ''}</div>${
    actions ? html`<div class="actions">${actions}</div>` : ''
  }</div>`;
}

export interface Tab {
  readonly label: string;
  readonly href: string;
  readonly current: boolean;
}

export function tabs(list: readonly Tab[]): SafeHtml {
  return html`<nav class="tabs" aria-label="Sections">${list.map(
    (tab) => html`<a href="${tab.href}"${tab.current ? html` aria-current="page"` : ''}>${tab.label}</a>`,
  )}</nav>`;
}

export function card(title: string | undefined, body: SafeHtml): SafeHtml {
  return html`<section class="card">${title ? html`<h2>${title}</h2>` : ''}${body}</section>`;
}

export function onOff(on: boolean, labels: [string, string] = ['On', 'Off']): SafeHtml {
  return html`<span class="badge${on ? ' on' : ''}">${on ? labels[0] : labels[1]}</span>`;
}

export function tagList(tags: readonly string[]): SafeHtml | string {
  return tags.length === 0
    ? html`<span class="muted">untagged</span>`
    : html`${tags.map((t) => html`<span class="tag">${t}</span>`)}`;
}

/** A command with a copy button (shown once the script runs). */
export function command(id: string, text: string, label: string): SafeHtml {
  return html`<div class="command"><pre id="${id}" aria-label="${label}">${text}</pre><button type="button" class="small" data-copy="${id}" hidden>Copy</button></div>`;
}

/** Bytes as people read them (1000-based, as registries and Docker print sizes), as the CLI prints them. */
export function formatBytes(bytes: number): string {
  return formatByteSize(bytes, 'decimal');
}

/** A time as `2026-12-03 14:05 UTC`, with the exact instant for machines. */
export function time(iso: string | undefined): SafeHtml | string {
  if (!iso) return '—';
  return html`<time datetime="${iso}" title="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

export const severityLabels: Record<Severity, string> = {
  CRITICAL: 'Critical',
  HIGH: 'High',
  MEDIUM: 'Medium',
  LOW: 'Low',
  UNKNOWN: 'Unknown',
};

export type SeverityCounts = Readonly<Record<Severity, number>>;

/** Counts by severity as small coloured badges, worst first. */
export function severityBadges(summary: SeverityCounts): SafeHtml {
  return html`<span class="sevs">${severities.map(
    (severity) =>
      html`<span class="sev ${severity}${summary[severity] === 0 ? ' zero' : ''}" title="${severityLabels[severity]}" aria-label="${severityLabels[severity]}: ${summary[severity]}">${summary[severity]}</span>`,
  )}</span>`;
}

export { html, type SafeHtml };
