import { escapeLabel, metricHead } from './exposition.js';

/**
 * The per-request metrics, kept in plain numbers: counting a request is one map lookup and a few
 * additions (prom-client's labelled instruments hash their labels on every call, which cost more
 * than the rest of a cached manifest HEAD). They are written in the text format at scrape time.
 */

/** Seconds: from a cached manifest answer (about a millisecond) up to a long blob transfer. */
export const durationBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
] as const;

/** A finished request, as the metrics see it. */
export interface FinishedRequest {
  readonly family: string;
  readonly method: string;
  readonly status: number;
  readonly seconds: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

interface Durations {
  readonly family: string;
  readonly method: string;
  /** Observations per bucket (not cumulative), the last one past every bound (+Inf). */
  readonly counts: number[];
  sum: number;
}

interface Traffic {
  received: number;
  sent: number;
}

/** One label combination: its own count, and the duration and traffic series it adds to. */
interface Series {
  readonly family: string;
  readonly method: string;
  readonly status: number;
  count: number;
  readonly durations: Durations;
  readonly traffic: Traffic;
}

export class RequestStats {
  private readonly series = new Map<string, Series>();
  private readonly durations = new Map<string, Durations>();
  private readonly traffic = new Map<string, Traffic>();
  /** Requests to upload sessions being served. */
  uploadsInProgress = 0;

  record(request: FinishedRequest): void {
    const key = `${request.family} ${request.method} ${request.status}`;
    const series = this.series.get(key) ?? this.newSeries(key, request);
    series.count++;
    const { counts } = series.durations;
    let bucket = 0;
    while (bucket < durationBuckets.length && request.seconds > (durationBuckets[bucket] as number)) bucket++;
    counts[bucket] = (counts[bucket] as number) + 1;
    series.durations.sum += request.seconds;
    series.traffic.received += request.bytesIn;
    series.traffic.sent += request.bytesOut;
  }

  private newSeries(key: string, { family, method, status }: FinishedRequest): Series {
    const durationKey = `${family} ${method}`;
    let durations = this.durations.get(durationKey);
    if (!durations) {
      durations = { family, method, counts: new Array(durationBuckets.length + 1).fill(0), sum: 0 };
      this.durations.set(durationKey, durations);
    }
    let traffic = this.traffic.get(family);
    if (!traffic) {
      traffic = { received: 0, sent: 0 };
      this.traffic.set(family, traffic);
    }
    const series = { family, method, status, count: 0, durations, traffic };
    this.series.set(key, series);
    return series;
  }

  /** The Prometheus text exposition (0.0.4) of these metrics. */
  exposition(): string {
    const lines: string[] = [];
    const family = (value: string) => `family="${escapeLabel(value)}"`;
    const method = (value: string) => `method="${escapeLabel(value)}"`;
    lines.push(
      ...metricHead(
        'mistrive_http_requests_total',
        'counter',
        'HTTP requests answered, by route family, method and status.',
      ),
    );
    for (const series of this.series.values()) {
      lines.push(
        `mistrive_http_requests_total{${family(series.family)},${method(series.method)},status="${series.status}"} ${series.count}`,
      );
    }
    lines.push(
      ...metricHead(
        'mistrive_http_request_duration_seconds',
        'histogram',
        'Time from a request’s arrival to the end of its response, by route family and method.',
      ),
    );
    for (const durations of this.durations.values()) {
      const labels = `${family(durations.family)},${method(durations.method)}`;
      let cumulative = 0;
      durations.counts.forEach((count, index) => {
        cumulative += count;
        const bound = index < durationBuckets.length ? String(durationBuckets[index]) : '+Inf';
        lines.push(`mistrive_http_request_duration_seconds_bucket{le="${bound}",${labels}} ${cumulative}`);
      });
      lines.push(
        `mistrive_http_request_duration_seconds_sum{${labels}} ${durations.sum}`,
        `mistrive_http_request_duration_seconds_count{${labels}} ${cumulative}`,
      );
    }
    const traffic = [...this.traffic];
    lines.push(
      ...metricHead(
        'mistrive_http_received_bytes_total',
        'counter',
        'Bytes read from clients while their requests were served, by route family.',
      ),
      ...traffic.map(
        ([name, bytes]) => `mistrive_http_received_bytes_total{${family(name)}} ${bytes.received}`,
      ),
      ...metricHead(
        'mistrive_http_sent_bytes_total',
        'counter',
        'Bytes written to clients (headers and bodies), by route family.',
      ),
      ...traffic.map(([name, bytes]) => `mistrive_http_sent_bytes_total{${family(name)}} ${bytes.sent}`),
      ...metricHead(
        'mistrive_uploads_in_progress',
        'gauge',
        'Requests to blob upload sessions (start, chunk, finish, status) this instance is serving.',
      ),
      `mistrive_uploads_in_progress ${this.uploadsInProgress}`,
    );
    return `${lines.join('\n')}\n`;
  }
}
