import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuditLog, outcomeOfError, reasonOf } from '../audit/audit-log.js';
import { redirect, sendPage } from '../auth/oauth/page-responses.js';
import type { PublicUrls } from '../auth/oauth/public-urls.js';
import type { WebSession, WebSessions } from '../auth/oauth/web-sessions.js';
import { RegistryError } from '../errors/registry-error.js';
import { anonymous, type Caller } from '../iam/principals.js';
import { readForm } from '../server/http.js';
import type { Handler, Route } from '../server/router.js';
import { alert, html, page, type SafeHtml, type Viewer } from './layout.js';
import { notices } from './notices.js';

/** One request to a console page, once the browser's session is known. */
export interface ConsoleRequest {
  readonly req: IncomingMessage;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** One path parameter of the route's pattern. */
  param(name: string): string;
  readonly query: URLSearchParams;
  readonly caller: Caller;
  readonly viewer: Viewer;
  /** The server's public URL (the host the setup commands name). */
  readonly origin: string;
}

/** What went wrong with a form, to show on the page it came from. */
export interface Problem {
  readonly message: string;
  /** What was typed, to fill the form in again. */
  readonly form: URLSearchParams;
}

export type Render = (request: ConsoleRequest, problem?: Problem) => Promise<SafeHtml>;

export type Outcome =
  | { readonly redirect: string; readonly notice?: keyof typeof notices }
  | { readonly download: { readonly filename: string; readonly body: string } };

export type Act = (request: ConsoleRequest, form: URLSearchParams) => Promise<Outcome>;

/** A console route as data: its path, the page it shows, and what posting to it does. */
export interface ConsolePage {
  readonly name: string;
  readonly pattern: RegExp;
  readonly render?: Render;
  /** Posting: the action, and the page shown again with the problem when the action is refused. */
  readonly post?: { readonly act: Act; readonly page: Render };
}

export interface ConsoleDeps {
  readonly sessions: WebSessions;
  readonly urls: PublicUrls;
  /** Every change made through a form is recorded. */
  readonly audit: AuditLog;
}

/**
 * A form's audit entry: the page's name (`console-repository-delete` records `console.repository-delete`,
 * with the form's own `action` when it has one), the page's path as the resource, and what was typed.
 */
function consoleAuditEntry(page: string, request: ConsoleRequest, form: URLSearchParams) {
  const formAction = form.get('action');
  return {
    action: `console.${page.replace(/^console-/, '')}${formAction ? `.${formAction}` : ''}`,
    resource: request.viewer.path.replace(/^\/+/, '').split('?')[0] ?? '',
    details: Object.fromEntries([...form].filter(([name]) => name !== 'action' && name !== 'confirm')),
  };
}

function decode(params: Readonly<Record<string, string>>): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      throw new RegistryError('NOT_FOUND', 'no such page: the address is malformed');
    }
  }
  return decoded;
}

function viewerOf(session: WebSession | undefined, req: IncomingMessage): Viewer {
  const caller = session?.caller;
  return {
    login: session?.login,
    admin: caller?.kind === 'user' && caller.admin,
    csrfToken: session?.csrfToken,
    path: (req.url ?? '/').replace(/^https?:\/\/[^/?#]*/i, ''),
  };
}

/**
 * Statuses a refused form is shown again with; anything else becomes a refusal page. The page is
 * rendered with its own access checks, so a caller who may not see it still gets the refusal page.
 */
const formProblems = new Set([400, 403, 404, 409, 412, 413]);

/**
 * The three refusals of the registry, in words (DESIGN §4): not signed in, with a link to sign in;
 * signed in without the role, naming it; and not found, which is also what a caller who may not
 * see the resource gets, so a page never hints that something exists.
 */
function refusalPage(error: RegistryError, viewer: Viewer): SafeHtml {
  const signIn = `/login?next=${encodeURIComponent(viewer.path)}`;
  if (error.status === 401) {
    return page(
      { title: 'Sign in required', viewer },
      html`<section class="card"><h1>Sign in to see this page</h1><p>This page is only for people signed in to this registry who have access to it.</p><p><a class="button primary" href="${signIn}">Sign in</a></p></section>`,
    );
  }
  if (error.status === 403) {
    return page(
      { title: 'No permission', viewer },
      html`<section class="card"><h1>You do not have permission</h1>${alert(error.message)}<p class="muted">Ask an owner of the project or repository to grant you the role named above.</p><p><a href="/">Back to projects</a></p></section>`,
    );
  }
  if (error.status === 404) {
    return page(
      { title: 'Not found', viewer },
      html`<section class="card"><h1>Not found</h1><p>${error.message}.</p><p class="muted">Check the project, repository and image names${
        viewer.login ? '' : html`, or <a href="${signIn}">sign in</a>`
      }.</p><p><a href="/">Back to projects</a></p></section>`,
    );
  }
  return page(
    { title: 'Something went wrong', viewer },
    html`<section class="card"><h1>That did not work</h1>${alert(error.message)}<p><a href="/">Back to projects</a></p></section>`,
  );
}

function sendConsolePage(res: ServerResponse, body: SafeHtml, status = 200): void {
  sendPage(res, body, { status, sameOriginAssets: true });
}

/** Turns the console's pages into server routes: sessions, CSRF checks, refusals and redirects in one place. */
export function toRoutes(pages: readonly ConsolePage[], deps: ConsoleDeps): Route[] {
  return pages.map((consolePage) => {
    const prepare = async (
      req: IncomingMessage,
      params: Readonly<Record<string, string>>,
      query: URLSearchParams,
    ) => {
      const session = await deps.sessions.current(req);
      const decoded = decode(params);
      const request: ConsoleRequest = {
        req,
        params: decoded,
        param: (name) => {
          const value = decoded[name];
          if (value === undefined) throw new Error(`route ${consolePage.name} has no parameter ${name}`);
          return value;
        },
        query,
        caller: session?.caller ?? anonymous,
        viewer: viewerOf(session, req),
        origin: deps.urls.issuer(req),
      };
      return { session, request };
    };

    const guarded =
      (
        run: (res: ServerResponse, request: ConsoleRequest, session: WebSession | undefined) => Promise<void>,
      ): Handler =>
      async ({ req, res, params, query }) => {
        let viewer: Viewer = viewerOf(undefined, req);
        try {
          const { session, request } = await prepare(req, params, query);
          viewer = request.viewer;
          await run(res, request, session);
        } catch (error) {
          if (!(error instanceof RegistryError)) throw error;
          if (res.headersSent) return void res.destroy();
          sendPage(res, refusalPage(error, viewer), {
            status: error.status,
            sameOriginAssets: true,
            headers: req.complete ? {} : { Connection: 'close' },
          });
        }
      };

    const methods: Route['methods'] = {};
    const { render, post } = consolePage;
    if (render) {
      methods.GET = {
        action: 'none',
        handler: guarded(async (res, request) => sendConsolePage(res, await render(request))),
      };
    }
    if (post) {
      methods.POST = {
        action: 'none',
        handler: guarded(async (res, request, session) => {
          const form = await readForm(request.req);
          // Changes need a session: a visitor who is not signed in is sent to sign in first.
          if (!session) return redirect(res, `/login?next=${encodeURIComponent(request.viewer.path)}`);
          deps.sessions.checkCsrf(session, form);
          const entry = consoleAuditEntry(consolePage.name, request, form);
          let outcome: Outcome;
          try {
            outcome = await post.act(request, form);
          } catch (error) {
            await deps.audit.recordRequest(request.req, {
              ...entry,
              outcome: outcomeOfError(error),
              details: { ...entry.details, reason: reasonOf(error) },
            });
            if (!(error instanceof RegistryError) || !formProblems.has(error.status)) throw error;
            return sendConsolePage(
              res,
              await post.page(request, { message: error.message, form }),
              error.status,
            );
          }
          await deps.audit.recordRequest(request.req, { ...entry, outcome: 'success' });
          if ('download' in outcome) {
            const { filename, body } = outcome.download;
            res.writeHead(200, {
              'Content-Type': 'application/json; charset=utf-8',
              'Content-Disposition': `attachment; filename="${filename.replace(/[^\w.@-]/g, '_')}"`,
              'Content-Length': Buffer.byteLength(body),
              'Cache-Control': 'no-store',
              'X-Content-Type-Options': 'nosniff',
              'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
            });
            return void res.end(body);
          }
          const separator = outcome.redirect.includes('?') ? '&' : '?';
          redirect(
            res,
            outcome.notice ? `${outcome.redirect}${separator}done=${outcome.notice}` : outcome.redirect,
          );
        }),
      };
    }
    return { name: consolePage.name, pattern: consolePage.pattern, methods };
  });
}

/** The notice a page shows after a change, from the fixed list (never text from the address). */
export function doneNotice(request: ConsoleRequest): string | undefined {
  const key = request.query.get('done');
  return key && Object.hasOwn(notices, key) ? notices[key as keyof typeof notices] : undefined;
}
