/** Byte sizes as people write them for quotas: `500MB`, `10GiB`, `1.5TB` or a plain number of bytes. */

const units: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Whole bytes, or undefined when the text is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? units[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const scales = {
  /** `12.3 MB`: powers of 1000, one decimal. */
  decimal: { base: 1000, names: ['B', 'kB', 'MB', 'GB', 'TB'], digits: 1, trim: false },
  /** `10 GiB`, `1.5 MiB`: powers of 1024, as quotas are usually set. */
  binary: { base: 1024, names: ['B', 'KiB', 'MiB', 'GiB', 'TiB'], digits: 2, trim: true },
} as const;

export function formatByteSize(bytes: number, scale: keyof typeof scales): string {
  const { base, names, digits, trim } = scales[scale];
  let value = bytes;
  let unit = 0;
  while (value >= base && unit < names.length - 1) {
    value /= base;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  return `${trim ? Number(value.toFixed(digits)) : value.toFixed(digits)} ${names[unit]}`;
}

export function formatBinaryBytes(bytes: number): string {
  return formatByteSize(bytes, 'binary');
}
