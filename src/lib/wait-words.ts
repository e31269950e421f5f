/**
 * A wait in words people read: "in 15 minutes", "in 1 hour", "in 45 seconds". Rounded up, so the
 * promise is never earlier than the truth (899 s is "in 15 minutes").
 */
export function inWords(seconds: number): string {
  const units: [number, string][] = [
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size) return plural(Math.ceil(seconds / size), unit);
  }
  return plural(Math.max(1, Math.ceil(seconds)), 'second');
}

function plural(count: number, unit: string): string {
  return `in ${count} ${unit}${count === 1 ? '' : 's'}`;
}
