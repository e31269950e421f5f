/** Writing the Prometheus text format (0.0.4) for the metrics kept as plain numbers. */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export const escapeLabel = (value: string) =>
  value.replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`));

/** `{name="value",…}`, or nothing for no labels. */
export function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/** The HELP and TYPE lines that open a metric. */
export function metricHead(name: string, type: MetricType, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** A metric with one sample per label set. */
export function metricLines(
  name: string,
  type: MetricType,
  help: string,
  samples: Iterable<readonly [Readonly<Record<string, string>>, number]>,
): string[] {
  const lines = metricHead(name, type, help);
  for (const [labels, value] of samples) lines.push(`${name}${labelText(labels)} ${value}`);
  return lines;
}
