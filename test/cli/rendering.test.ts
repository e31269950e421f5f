import { describe, expect, it } from 'vitest';
import { suggestCommand } from '../../src/cli/command-suggestion.js';
import { normalizeRegistry, serverUrlHost } from '../../src/cli/credentials/registry-url.js';
import { CliError, exitCodes, fromServerError } from '../../src/cli/errors.js';
import { colorAllowed } from '../../src/cli/io.js';
import { parseImageReference, resolveDigestPrefix } from '../../src/cli/references.js';
import { formatBytes, renderDetails, renderTable, shortDigest } from '../../src/cli/render.js';
import { goJson } from '../../src/credential-helper/protocol.js';

/** The pure parts of the CLI, table-driven: renderers, the error table, references, addresses. */

const rows = [
  { name: 'backend', scanning: true, note: 'tabs\tand\nlines' },
  { name: 'a-much-longer-name', scanning: false, note: '' },
];
const columns = [
  { header: 'Repository', value: (row: (typeof rows)[number]) => row.name },
  { header: 'Scanning', value: (row: (typeof rows)[number]) => (row.scanning ? 'yes' : 'no') },
  { header: 'Note', value: (row: (typeof rows)[number]) => row.note },
];

describe('renderers', () => {
  it('align a table with a header on a terminal', () => {
    expect(renderTable(columns, rows, { tty: true, color: false })).toBe(
      'REPOSITORY          SCANNING  NOTE\n' +
        'backend             yes       tabs and lines\n' +
        'a-much-longer-name  no\n',
    );
  });

  it('print tab-separated lines without a header when piped', () => {
    expect(renderTable(columns, rows, { tty: false, color: false })).toBe(
      'backend\tyes\ttabs and lines\n' + 'a-much-longer-name\tno\t\n',
    );
  });

  it('colour the header only when colour is allowed', () => {
    expect(renderTable(columns, rows, { tty: true, color: true })).toContain('\u001b[1mREPOSITORY');
    expect(renderTable(columns, rows, { tty: true, color: false })).not.toContain('\u001b[');
  });

  it('print nothing for an empty table', () => {
    expect(renderTable(columns, [], { tty: true, color: false })).toBe('');
    expect(renderTable(columns, [], { tty: false, color: false })).toBe('');
  });

  it('render details as aligned labels or label<TAB>value, skipping empty values', () => {
    const pairs = [
      ['Project', 'shop'],
      ['Description', ''],
      ['Display name', 'Shop'],
    ] as const;
    expect(renderDetails(pairs, { tty: true, color: false })).toBe(
      'Project:       shop\nDisplay name:  Shop\n',
    );
    expect(renderDetails(pairs, { tty: false, color: false })).toBe('Project\tshop\nDisplay name\tShop\n');
  });

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1500, '1.5 kB'],
    [12_345_678, '12.3 MB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('wrap the columns that may wrap to fit the terminal, words whole where they fit', () => {
    const wide = [
      { id: 'sha256:abc', tags: 'v1, latest, release-2026-12', note: 'linux/amd64, linux/arm64/v8' },
    ];
    const wrapping = [
      { header: 'Digest', value: (row: (typeof wide)[number]) => row.id },
      { header: 'Tags', value: (row: (typeof wide)[number]) => row.tags, wrap: true },
      { header: 'Platforms', value: (row: (typeof wide)[number]) => row.note, wrap: true },
    ];
    expect(renderTable(wrapping, wide, { tty: true, color: false, width: 43 })).toBe(
      'DIGEST      TAGS             PLATFORMS\n' +
        'sha256:abc  v1, latest,      linux/amd64,\n' +
        '            release-2026-12  linux/arm64/v8\n',
    );
    // Wide enough: one line per row, as without a width; piped: never wrapped.
    expect(renderTable(wrapping, wide, { tty: true, color: false, width: 200 })).toBe(
      renderTable(wrapping, wide, { tty: true, color: false }),
    );
    expect(renderTable(wrapping, wide, { tty: false, color: false, width: 20 })).toBe(
      'sha256:abc\tv1, latest, release-2026-12\tlinux/amd64, linux/arm64/v8\n',
    );
  });

  it('shortens digests on a terminal only', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(shortDigest(digest, { tty: true, color: false })).toBe('sha256:abababababab');
    expect(shortDigest(digest, { tty: false, color: false })).toBe(digest);
  });
});

describe('digest prefixes', () => {
  const digests = [
    `sha256:ffb5629b2148${'0'.repeat(52)}`,
    `sha256:ffb5629b2148${'1'.repeat(52)}`,
    `sha256:${'a'.repeat(64)}`,
  ];

  it('resolve a unique prefix to the whole digest', () => {
    expect(resolveDigestPrefix('sha256:aaaaaaaaaaaa', digests, 'shop/apps/api')).toBe(digests[2]);
    expect(resolveDigestPrefix('sha256:ffb5629b21481', digests, 'shop/apps/api')).toBe(digests[1]);
  });

  it('refuse an ambiguous prefix, listing the candidates', () => {
    expect(() => resolveDigestPrefix('sha256:ffb5629b2148', digests, 'shop/apps/api')).toThrow(
      `sha256:ffb5629b2148 is ambiguous: 2 digests of shop/apps/api start with it: ${digests[0]}, ${digests[1]}`,
    );
  });

  it('are at least 12 hex digits in a reference', () => {
    expect(parseImageReference('shop/apps/api@sha256:ffb5629b2148').digest).toBe('sha256:ffb5629b2148');
    expect(() => parseImageReference('shop/apps/api@sha256:ffb5629b214')).toThrow(/at least 12/);
  });
});

describe('a mistyped command', () => {
  const ids = ['images:list', 'images:scan', 'images:describe', 'images:delete', 'tags:list', 'tags:add'];
  const topics = new Set(['images', 'tags']);
  const suggest = (words: string[]) => suggestCommand(words, ids, (id) => topics.has(id));

  it('is matched by its own word within its topic, the arguments kept whole', () => {
    expect(suggest(['images', 'lst', 'my-project/backend/api:v1'])).toEqual({
      typed: ['images', 'lst'],
      suggestion: { id: 'images:list', argv: ['my-project/backend/api:v1'], read: true },
    });
    expect(suggest(['images', 'scn', 'a/b/c:v1', '--wait']).suggestion).toEqual({
      id: 'images:scan',
      argv: ['a/b/c:v1', '--wait'],
      read: false,
    });
  });

  it('prefers a command that reads when two are as close', () => {
    // "delist" is two edits from both "delete" and "list".
    expect(suggest(['images', 'delist']).suggestion?.id).toBe('images:list');
  });

  it('suggests nothing for a command typed right (extra arguments are not a typo)', () => {
    expect(suggest(['images', 'list', 'shop/apps', 'extra']).suggestion).toBeUndefined();
  });

  it('suggests nothing far from every command', () => {
    expect(suggest(['images', 'frobnicate']).suggestion).toBeUndefined();
  });
});

describe('colour', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ TERM: 'dumb' }, true, false],
  ])('env %j on a terminal=%s: colour %s', (env, tty, expected) => {
    expect(colorAllowed(env as NodeJS.ProcessEnv, tty)).toBe(expected);
  });
});

describe('the error and exit-code table', () => {
  it('keeps the exit codes scripts rely on', () => {
    expect(exitCodes).toEqual({
      INTERNAL: 1,
      USAGE: 2,
      INVALID_ARGUMENT: 2,
      AUTH_REQUIRED: 3,
      PERMISSION_DENIED: 4,
      NOT_FOUND: 5,
      ALREADY_EXISTS: 6,
      FAILED_PRECONDITION: 6,
      UNREACHABLE: 7,
      SERVER_ERROR: 7,
      TIMEOUT: 8,
      LOGIN_DENIED: 9,
      VULNERABILITIES_FOUND: 10,
      MISSING_DEPENDENCY: 11,
      LOCAL_FILE: 12,
      CANCELLED: 13,
    });
  });

  it.each([
    [401, 'UNAUTHORIZED', 'AUTH_REQUIRED', 3, 'run `mistrive auth login --registry http://r:1`'],
    [403, 'DENIED', 'PERMISSION_DENIED', 4, 'ask an owner of the repository'],
    [404, 'NAME_UNKNOWN', 'NOT_FOUND', 5, 'check the project and repository IDs'],
    [409, 'ALREADY_EXISTS', 'ALREADY_EXISTS', 6, undefined],
    [400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 2, undefined],
    [503, undefined, 'SERVER_ERROR', 7, 'try again'],
  ])('turns %d %s into %s (exit %d)', (status, code, cliCode, exit, hint) => {
    const error = fromServerError(status, code, 'what happened', 'http://r:1');
    expect(error).toBeInstanceOf(CliError);
    expect(error.code).toBe(cliCode);
    expect(error.exitCode).toBe(exit);
    if (hint) expect(error.hint).toContain(hint);
    else expect(error.hint).toBeUndefined();
  });
});

describe('image references', () => {
  it.each([
    [
      'shop/apps/api',
      {
        host: undefined,
        project: 'shop',
        repository: 'apps',
        image: 'api',
        tag: undefined,
        digest: undefined,
      },
    ],
    [
      'localhost:5000/shop/apps/web/api:v1.2',
      {
        host: 'localhost:5000',
        project: 'shop',
        repository: 'apps',
        image: 'web/api',
        tag: 'v1.2',
        digest: undefined,
      },
    ],
    [
      `registry.example.com/shop/apps/api@sha256:${'0'.repeat(64)}`,
      {
        host: 'registry.example.com',
        project: 'shop',
        repository: 'apps',
        image: 'api',
        tag: undefined,
        digest: `sha256:${'0'.repeat(64)}`,
      },
    ],
  ])('parses %s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  it.each([
    'shop/apps',
    'localhost:5000/shop/apps',
    'shop//api',
    'shop/apps/api@md5:00',
    'shop/apps/api:-bad',
  ])('refuses %s as a usage error', (text) => {
    expect(() => parseImageReference(text)).toThrow(CliError);
  });
});

describe('registry addresses', () => {
  it.each([
    ['localhost:5000', 'http://localhost:5000'],
    ['127.0.0.1:5000/', 'http://127.0.0.1:5000'],
    ['registry.example.com', 'https://registry.example.com'],
    ['http://registry.example.com:8080/path', 'http://registry.example.com:8080'],
    ['ftp://x', undefined],
    ['', undefined],
  ])('%s is %s', (input, origin) => {
    expect(normalizeRegistry(input)).toBe(origin);
  });

  it.each([
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['http://localhost:5000', 'localhost:5000'],
    ['   ', undefined],
  ])('Docker server URL %s names host %s', (serverUrl, host) => {
    expect(serverUrlHost(serverUrl)).toBe(host);
  });
});

describe('the helper writes JSON as Go does', () => {
  it('sorts map keys and escapes HTML characters', () => {
    expect(goJson({ b: '<&>', a: 'x' })).toBe('{"a":"x","b":"\\u003c\\u0026\\u003e"}\n');
  });
});
