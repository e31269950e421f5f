import { connect, type Socket } from 'node:net';

/**
 * A plain TCP connection to the registry that the test writes exactly what it wants on: half a
 * request, a stalled body, nothing at all. `closed` resolves with every byte the server sent once
 * it closed the connection.
 */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  readonly closed: Promise<string>;
  /** What the server sent so far. */
  received(): string;
  write(text: string | Buffer): void;
}

export async function openRawConnection(url: string, localAddress?: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const received = () => Buffer.concat(chunks).toString('utf8');
  const closed = new Promise<string>((resolve) => {
    // A reset after the server's answer still ends the exchange: what arrived is what counts.
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(received()));
  });
  return { socket, closed, received, write: (text) => socket.write(text) };
}

export interface ParsedReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The status line, headers (names lower-cased) and body of the first response in `text`. */
export function parseReply(text: string): ParsedReply {
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? text.length);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: text.slice(split + 4, split + 4 + length),
  };
}

/** The OCI error of a raw reply: `{"errors":[{"code","message"}]}`. */
export function replyError(reply: ParsedReply): { code: string; message: string } | undefined {
  return (JSON.parse(reply.body) as { errors?: { code: string; message: string }[] }).errors?.[0];
}
