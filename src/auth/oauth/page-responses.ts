import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { clientFacingError } from '../../errors/storage-full.js';
import type { Handler } from '../../server/router.js';
import type { SafeHtml } from './html.js';
import { messagePage, stylesheetHash } from './pages.js';
import { oauthPaths } from './public-urls.js';

export interface PageOptions {
  readonly status?: number;
  readonly headers?: OutgoingHttpHeaders;
  /**
   * Origins a form on the page may send the browser to, beyond this server (the consent page's
   * redirect); `any` when CSP cannot name the origin (it has no syntax for IPv6 literals).
   */
  readonly formTargets?: readonly string[] | 'any';
  /**
   * The page loads its stylesheet and script from this origin (the console) instead of carrying its
   * one inline stylesheet (the sign-in pages).
   */
  readonly sameOriginAssets?: boolean;
}

/**
 * Pages load nothing but their inline stylesheet, may not be framed (clickjacking on the consent
 * and device pages), leak no URL through Referer, and are never cached.
 */
function securityHeaders(
  formTargets: readonly string[] | 'any',
  sameOriginAssets: boolean,
): OutgoingHttpHeaders {
  const policy = [
    "default-src 'none'",
    ...(sameOriginAssets
      ? ["style-src 'self'", "script-src 'self'", "img-src 'self'", "connect-src 'self'"]
      : [`style-src '${stylesheetHash}'`]),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ];
  if (formTargets !== 'any') policy.push(`form-action ${["'self'", ...formTargets].join(' ')}`);
  return {
    'Content-Security-Policy': policy.join('; '),
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

export function sendPage(res: ServerResponse, page: SafeHtml, options: PageOptions = {}): void {
  const body = page.text;
  res.writeHead(options.status ?? 200, {
    ...securityHeaders(options.formTargets ?? [], options.sameOriginAssets ?? false),
    ...options.headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** 303 See Other: the browser follows with a GET, whatever the method it came with (RFC 9700 §4.12). */
export function redirect(res: ServerResponse, location: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(303, { ...headers, Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

/** Wraps a page handler so that its errors become a page (with Retry-After and the like) rather than JSON. */
export function pageEndpoint(handler: Handler): Handler {
  return async (context) => {
    try {
      await handler(context);
    } catch (error) {
      const known = clientFacingError(error);
      if (!known) throw error;
      if (context.res.headersSent) {
        context.res.destroy();
        return;
      }
      const title =
        known.status === 429
          ? 'Too many attempts'
          : known.status === 403
            ? 'Request refused'
            : 'Something went wrong';
      const headers: OutgoingHttpHeaders = { ...known.headers };
      if (!context.req.complete) headers.Connection = 'close';
      sendPage(context.res, messagePage(title, known.message), { status: known.status, headers });
    }
  };
}

/**
 * A path on this server to go on to after signing in. Anything else (another host, `//host`,
 * backslashes that browsers read as slashes) is dropped, so the login page is no open redirector.
 */
export function safeNext(next: string | null | undefined): string | undefined {
  if (!next || next.length > 4000 || !next.startsWith('/') || next.startsWith('//')) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return undefined;
  return next;
}

/** Sends the browser to the login page, to come back to `next` once signed in. */
export function signInFirst(res: ServerResponse, next: string): void {
  redirect(res, `${oauthPaths.login}?next=${encodeURIComponent(next)}`);
}
