/**
 * The CLI's one error type and its one table of exit codes. Everything a command can fail with is
 * a `CliError`: a stable code, one clear sentence, and what to do about it.
 */

/** Exit codes scripts can rely on. Several codes share an exit status when a script would treat them alike. */
export const exitCodes = {
  /** Something unexpected: a bug, or a server error. */
  INTERNAL: 1,
  /** A flag or argument is missing or wrong, or the server refused the request as invalid. */
  USAGE: 2,
  INVALID_ARGUMENT: 2,
  /** Not signed in, or the session expired or was revoked. */
  AUTH_REQUIRED: 3,
  /** Signed in, but the account's role does not allow this. */
  PERMISSION_DENIED: 4,
  /** The project, repository, image or other resource does not exist (or is not visible to the caller). */
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 6,
  /** The registry could not be reached or answered with a server error. */
  UNREACHABLE: 7,
  SERVER_ERROR: 7,
  /** A wait ran out: the browser sign-in, a device code, a scan. */
  TIMEOUT: 8,
  /** The person signing in said no, or closed the flow. */
  LOGIN_DENIED: 9,
  /** `images vulns --fail-on` found vulnerabilities at or above the threshold. */
  VULNERABILITIES_FOUND: 10,
  /** A program the command drives (docker) is not installed. */
  MISSING_DEPENDENCY: 11,
  /** A local file (CLI config, Docker config, key file) cannot be read or is malformed. */
  LOCAL_FILE: 12,
  /** The person answered no to a confirmation. */
  CANCELLED: 13,
} as const;

export type CliErrorCode = keyof typeof exitCodes;

export interface CliErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
}

export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: CliErrorCode, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = exitCodes[code];
  }

  /** The shape printed with `--json`. */
  toJSON(): { code: CliErrorCode; message: string; hint?: string } {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

/** The troubleshooting hints for the three ways registry access fails (DESIGN §4). */
export const hints = {
  signIn: (registry?: string) =>
    registry ? `run \`mistrive auth login --registry ${registry}\`` : 'run `mistrive auth login`',
  role: 'ask an owner of the repository or of its project (or the instance administrator) to grant you the role this needs',
  ids: 'check the project and repository IDs (`mistrive projects list`, `mistrive repos list --project P`)',
} as const;

/** What the registry says about a refusal, besides its message (`detail` of the error body). */
export interface RefusalDetail {
  /** The role the action takes (`owner`, `artifactstore.owner`). */
  readonly requiredRole?: string;
  /** Set when a repository setting, not a role, refused the change (`immutableTags`). */
  readonly setting?: string;
  /** PROJECT/REPOSITORY, when the refusal names one. */
  readonly repository?: string;
}

/**
 * What to do about a refusal (DENIED) of the management API, for the resource its path names
 * (`/users/…`, `/projects`, `/projects/P/…`, `/projects/P/repositories/R/…`): the repository setting
 * that refused it, or whom to ask for the role it takes. It does not send the caller to
 * `get-iam-policy`, which takes the owner role too.
 */
export function deniedHint(apiPath: string, detail: RefusalDetail = {}): string {
  // The client built the path with each ID percent-encoded, so each segment decodes.
  const [collection, project, sub, repository] = (apiPath.split('?')[0] ?? '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  if (detail.setting === 'immutableTags') {
    const [settingProject, settingRepository] = (detail.repository ?? `${project}/${repository}`).split('/');
    return `tags in repository ${settingProject}/${settingRepository} are immutable (its immutable-tags setting): use a new tag, or have an owner turn the setting off with \`mistrive repos update ${settingRepository} --project ${settingProject} --no-immutable-tags\``;
  }
  const role = detail.requiredRole ? `the ${detail.requiredRole} role` : 'a role that allows this';
  if (collection === 'users') return 'only the instance administrator manages users: ask them';
  if (collection === 'organizations' || (collection === 'projects' && !project)) {
    return 'creating projects takes the instance administrator or artifactstore.owner on the organization: ask the administrator to create it or grant you that role';
  }
  if (collection === 'projects' && project && sub === 'repositories' && repository) {
    return `ask an owner of repository ${project}/${repository} or of project ${project} (or the instance administrator) to grant you ${role} there`;
  }
  if (collection === 'projects' && project) {
    return `ask an owner of project ${project} (or the instance administrator) to grant you ${role} there`;
  }
  return hints.role;
}

/** Registry and API error codes (the server's catalogue) turned into CLI errors with their hints. */
export function fromServerError(
  status: number,
  serverCode: string | undefined,
  message: string,
  registry?: string,
  deniedHint: string = hints.role,
): CliError {
  const text = message.endsWith('.') ? message.slice(0, -1) : message;
  switch (serverCode) {
    case 'UNAUTHORIZED':
      return new CliError('AUTH_REQUIRED', text, { hint: hints.signIn(registry) });
    case 'DENIED':
      return new CliError('PERMISSION_DENIED', text, { hint: deniedHint });
    case 'NAME_UNKNOWN':
      return new CliError('NOT_FOUND', text, { hint: hints.ids });
    case 'ALREADY_EXISTS':
      return new CliError('ALREADY_EXISTS', text);
    case 'FAILED_PRECONDITION':
      return new CliError('FAILED_PRECONDITION', text);
    case 'MANIFEST_UNKNOWN':
    case 'BLOB_UNKNOWN':
    case 'NOT_FOUND':
      return new CliError('NOT_FOUND', text);
  }
  if (status === 401) return new CliError('AUTH_REQUIRED', text, { hint: hints.signIn(registry) });
  if (status === 403) return new CliError('PERMISSION_DENIED', text, { hint: deniedHint });
  if (status === 404) return new CliError('NOT_FOUND', text);
  if (status === 409) return new CliError('ALREADY_EXISTS', text);
  if (status === 429) return new CliError('SERVER_ERROR', text, { hint: 'wait a moment and try again' });
  if (status >= 400 && status < 500) return new CliError('INVALID_ARGUMENT', text);
  return new CliError('SERVER_ERROR', `the registry failed: ${text}`, {
    hint: 'try again; if it keeps failing, look at the registry log',
  });
}
