import { isIP } from 'node:net';

/** Whether an IP address is on the loopback interface (127.0.0.0/8, ::1, or IPv4-mapped 127.x). */
export function isLoopbackAddress(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(text) === 4) return text.startsWith('127.');
  if (isIP(text) === 6) return text === '::1' || /^::ffff:127\./.test(text);
  return false;
}
