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
  /** The terminal's width in columns, when known: tables fit it. */
  readonly width?: number;
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | boolean | undefined | null;
  /** On a terminal too narrow for the table, this column's cells may wrap onto more lines. */
  readonly wrap?: boolean;
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
  const widths = fitWidths(
    columns.map((column, index) => {
      const header = headers[index]?.length ?? 0;
      const natural = Math.max(header, ...cells.map((line) => line[index]?.length ?? 0));
      if (!column.wrap) return { natural, floors: [] };
      const longestWord = Math.max(
        header,
        ...cells.flatMap((line) => wordsOf(line[index] ?? '').map((word) => word.trimEnd().length)),
      );
      return { natural, floors: [Math.min(natural, longestWord), header] };
    }),
    target.width,
  );
  const paint = new Chalk({ level: target.color ? 1 : 0 });
  const line = (values: string[]) =>
    values
      .map((value, index) => (index === values.length - 1 ? value : value.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd();
  // A row whose wrapped cells take several lines prints them side by side, line by line.
  const rowLines = (values: string[]) => {
    const wrapped = values.map((value, index) => wrapCell(value, widths[index] ?? value.length));
    const height = Math.max(...wrapped.map((lines) => lines.length));
    return Array.from({ length: height }, (_, lineIndex) =>
      line(wrapped.map((lines) => lines[lineIndex] ?? '')),
    );
  };
  return `${[paint.bold(line(headers)), ...cells.flatMap(rowLines)].join('\n')}\n`;
}

const gap = 2;

/**
 * Column widths that fit `width`. While the table is too wide, the widest column that may wrap gives
 * up a column: first down to its longest word (so that words stay whole), then, if that is not
 * enough, down to its header. Columns that may not wrap keep their width.
 */
function fitWidths(
  columns: readonly { natural: number; floors: readonly number[] }[],
  width: number | undefined,
): number[] {
  const widths = columns.map((column) => column.natural);
  if (!width || width <= 0) return widths;
  const total = () => widths.reduce((sum, value) => sum + value, 0) + gap * (widths.length - 1);
  for (let pass = 0; pass < 2; pass++) {
    while (total() > width) {
      let widest = -1;
      columns.forEach((column, index) => {
        const floor = column.floors[pass];
        const current = widths[index] ?? 0;
        if (floor !== undefined && current > floor && (widest < 0 || current > (widths[widest] ?? 0)))
          widest = index;
      });
      if (widest < 0) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
  return widths;
}

/** A cell's words, each with the comma or space after it: where a line may break. */
function wordsOf(value: string): string[] {
  return value.match(/[^, ]+(?:, ?| |$)|[, ]+/g) ?? [];
}

/** Fills lines of at most `width` with whole words, breaking a word only when it is longer than a line. */
function wrapCell(value: string, width: number): string[] {
  if (value.length <= width || width <= 0) return [value];
  const lines: string[] = [];
  let current = '';
  for (const word of wordsOf(value)) {
    if (current && (current + word).trimEnd().length > width) {
      lines.push(current.trimEnd());
      current = '';
    }
    let rest = word;
    while (rest.trimEnd().length > width) {
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    current += rest;
  }
  if (current.trimEnd()) lines.push(current.trimEnd());
  return lines;
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
