import { Chalk } from 'chalk';
import { formatByteSize } from '../lib/byte-sizes.js';

/**
 * Renderers: pure functions of a result and of where it goes. On a terminal, aligned tables with a
 * header; piped, tab-separated lines without one, for `cut` and `awk`. `--json` never gets here.
 */

export interface RenderTarget {
  /** Whether stdout is a terminal. */
  readonly tty: boolean;
  /** Whether colour is allowed (a terminal, and `NO_COLOR` unset). */
  readonly color: boolean;
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | boolean | undefined | null;
}

function cell(value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null || value === '') return '';
  return String(value).replace(/[\t\n]/g, ' ');
}

export function renderTable<T>(
  columns: readonly Column<T>[],
  rows: readonly T[],
  target: RenderTarget,
  /** What a person at a terminal reads instead of an empty table; piped, an empty table prints nothing. */
  empty = '',
): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  if (!target.tty) return cells.map((line) => `${line.join('\t')}\n`).join('');
  if (rows.length === 0) return empty ? `${empty}\n` : '';
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((line) => line[index]?.length ?? 0)),
  );
  const paint = new Chalk({ level: target.color ? 1 : 0 });
  const line = (values: string[]) =>
    values
      .map((value, index) => (index === values.length - 1 ? value : value.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[paint.bold(line(headers)), ...cells.map(line)].join('\n')}\n`;
}

/** One resource as `label: value` lines on a terminal, `label<TAB>value` when piped. */
export function renderDetails(
  pairs: readonly (readonly [string, string | number | boolean | undefined | null])[],
  target: RenderTarget,
): string {
  const shown = pairs.filter(([, value]) => value !== undefined && value !== null && value !== '');
  if (!target.tty) return shown.map(([label, value]) => `${label}\t${cell(value)}\n`).join('');
  const width = Math.max(0, ...shown.map(([label]) => label.length + 1));
  const paint = new Chalk({ level: target.color ? 1 : 0 });
  return shown.map(([label, value]) => `${paint.bold(`${label}:`.padEnd(width))}  ${cell(value)}\n`).join('');
}

/** A short status line for people (`Created repository …`); scripts read `--json` instead. */
export function renderMessage(
  text: string,
  target: RenderTarget,
  tone: 'success' | 'plain' = 'plain',
): string {
  const paint = new Chalk({ level: target.color ? 1 : 0 });
  return `${tone === 'success' && target.tty ? `${paint.green('✓')} ` : ''}${text}\n`;
}

/** Dates as people read them: `2026-05-01 12:30 UTC`. */
export function formatTime(value: string | number | Date | undefined): string {
  if (value === undefined) return '';
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Byte counts as people read them: `12.3 MB`. */
export function formatBytes(bytes: number | undefined): string {
  return bytes === undefined ? '' : formatByteSize(bytes, 'decimal');
}

/** `sha256:0123456789ab…` shortened for tables; the full digest stays in --json and piped output. */
export function shortDigest(digest: string, target: RenderTarget): string {
  return target.tty ? digest.replace(/^(sha\d+:[0-9a-f]{12})[0-9a-f]+$/, '$1') : digest;
}
