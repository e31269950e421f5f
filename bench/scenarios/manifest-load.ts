import autocannon from 'autocannon';
import type { RunningServer } from '../daemons.js';
import { imageManifestType } from '../test-data.js';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  /** Connection errors, timeouts and non-2xx answers: any of them makes the figure suspect. */
  readonly failures: number;
  /** Server CPU time per request, in microseconds. */
  readonly cpuMicrosPerRequest: number;
}

export interface LoadSettings {
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/** The parts of autocannon's per-connection client reached into below. */
interface ParsingClient {
  readonly parser: Record<number, (info: unknown) => unknown> & {
    constructor: { kOnHeadersComplete: number };
  };
}

/**
 * Autocannon's response parser is never told that a response answers a HEAD, so it waits for the
 * Content-Length bytes that never come and counts no requests at all. Answering "skip the body"
 * from the headers callback fixes that. The client installs its callbacks after `setupClient`
 * returns, hence the microtask: it runs before the first response can arrive.
 */
function skipResponseBodies(client: autocannon.Client): void {
  queueMicrotask(() => {
    const { parser } = client as unknown as ParsingClient;
    const slot = parser.constructor.kOnHeadersComplete;
    const onHeaders = parser[slot];
    if (!onHeaders) throw new Error('autocannon changed: no headers callback on its parser');
    parser[slot] = (info) => {
      onHeaders(info);
      return true;
    };
  });
}

function run(
  url: string,
  method: 'GET' | 'HEAD',
  connections: number,
  seconds: number,
  authorization: Record<string, string>,
) {
  return autocannon({
    url,
    method,
    connections,
    duration: seconds,
    headers: { ...authorization, Accept: imageManifestType },
    ...(method === 'HEAD' ? { setupClient: skipResponseBodies } : {}),
  });
}

/** A warm-up run (discarded), then the measured run of `method` on NAME's manifest by tag. */
export async function loadManifest(
  server: RunningServer,
  name: string,
  tag: string,
  method: 'GET' | 'HEAD',
  settings: LoadSettings,
): Promise<LoadResult> {
  const url = `${server.url}/v2/${name}/manifests/${tag}`;
  // One token for the whole run, as a client pulling many times would hold it.
  const authorization = await server.auth.headers(name);
  await run(url, method, settings.connections, settings.warmupSeconds, authorization);
  const { result, cpuSeconds } = await server.watch.duringPhase(() =>
    run(url, method, settings.connections, settings.seconds, authorization),
  );
  if (result['2xx'] === 0)
    throw new Error(`${method} ${url}: no successful responses in ${settings.seconds} s`);
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p99Ms: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    cpuMicrosPerRequest: (cpuSeconds * 1e6) / result.requests.total,
  };
}
