/** Durations as people write them in settings and policies: `500ms`, `30s`, `15m`, `24h` or `7d`. */

const durationShape = /^(\d+)(ms|s|m|h|d)$/;
const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = durationShape.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * durationUnits[match[2] as keyof typeof durationUnits];
}

export function durationProblem(text: string): string {
  return `"${text}" is not a duration such as 30s, 15m, 24h or 7d`;
}

/** Milliseconds as the largest unit that writes them whole (`600000` is `10m`), the inverse of `parseDuration`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units = Object.entries(durationUnits).reverse() as [keyof typeof durationUnits, number][];
  const [unit, size] = units.find(([, size]) => ms % size === 0 && ms >= size) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}
