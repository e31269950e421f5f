/** One measured quantity for both registries; `reference` is absent where only mistrive is measured. */
export interface Figure {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly mistrive: number;
  readonly reference: number | undefined;
  readonly digits: number;
  /** Every sample behind the figure, for the JSON results. */
  readonly samples?: { readonly mistrive: readonly number[]; readonly reference?: readonly number[] };
}

export interface TargetCheck {
  readonly label: string;
  /** What was measured against the target, already formatted. */
  readonly measured: string;
  readonly pass: boolean;
}

export function ratio(figure: Figure): number | undefined {
  return figure.reference === undefined || figure.reference === 0
    ? undefined
    : figure.mistrive / figure.reference;
}

export function formatNumber(value: number | undefined, digits: number): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: number,
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column >= rightAligned ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function renderFigures(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => [
    figure.label,
    figure.unit,
    formatNumber(figure.mistrive, figure.digits),
    formatNumber(figure.reference, figure.digits),
    formatNumber(ratio(figure), 2),
  ]);
  return table(['figure', 'unit', 'mistrive', 'reference', 'ratio'], rows, 2);
}

export function renderTargets(targets: readonly TargetCheck[]): string {
  const rows = targets.map((target) => [target.label, target.measured, target.pass ? 'pass' : 'FAIL']);
  return table(['target', 'measured', 'result'], rows, 3);
}
