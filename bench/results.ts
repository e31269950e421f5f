import type { Measurements, PerRegistry } from './measure.js';
import type { BenchOptions } from './options.js';
import type { Figure, TargetCheck } from './report.js';
import { formatNumber, ratio } from './report.js';
import type { TransferResult } from './scenarios/big-blob.js';
import type { LoadResult } from './scenarios/manifest-load.js';
import type { ImageTiming } from './scenarios/many-layers.js';
import { median } from './stats.js';

type Samples = { mistrive: readonly number[]; reference: readonly number[] };

function figure(key: string, label: string, unit: string, digits: number, samples: Samples): Figure {
  return {
    key,
    label,
    unit,
    digits,
    mistrive: median(samples.mistrive),
    reference: median(samples.reference),
    samples,
  };
}

/** One field of every sample, per registry. */
function field<T>(results: PerRegistry<readonly T[]>, pick: (result: T) => number): Samples {
  return { mistrive: results.mistrive.map(pick), reference: results.reference.map(pick) };
}

function once<T>(results: PerRegistry<T>, pick: (result: T) => number): Samples {
  return { mistrive: [pick(results.mistrive)], reference: [pick(results.reference)] };
}

/** The figures of the table, each the median of its samples. */
export function figuresOf(m: Measurements, options: BenchOptions): Figure[] {
  const blob = sizeLabel(options.bigBlobBytes);
  const image = `${options.layerCount} x ${sizeLabel(options.layerBytes)} layers`;
  const mbps = (r: TransferResult) => r.mbPerSecond;
  const cpu = (r: TransferResult) => r.cpuSecondsPerGb;
  const seconds = (t: ImageTiming) => t.seconds;
  const layers = (t: ImageTiming) => t.layersPerSecond;
  const rate = (l: LoadResult) => l.requestsPerSecond;
  const p99 = (l: LoadResult) => l.p99Ms;
  const cpuPerRequest = (l: LoadResult) => l.cpuMicrosPerRequest;
  const connections = `${options.connections} connections`;
  // The three figures of one manifest load test: rate, p99 latency, server CPU per request.
  const loadFigures = (key: string, method: string, result: PerRegistry<LoadResult>) => [
    figure(key, `manifest ${method}, ${connections}`, 'req/s', 0, once(result, rate)),
    figure(`${key}P99`, `manifest ${method} p99 latency`, 'ms', 1, once(result, p99)),
    figure(
      `${key}Cpu`,
      `manifest ${method}, server CPU per request`,
      'CPU us',
      0,
      once(result, cpuPerRequest),
    ),
  ];
  return [
    figure('bigBlobPush', `${blob} blob push`, 'MB/s', 0, field(m.bigPush, mbps)),
    figure('bigBlobPull', `${blob} blob pull`, 'MB/s', 0, field(m.bigPull, mbps)),
    figure('bigBlobPullCurl', `${blob} pull, curl to /dev/null`, 'MB/s', 0, field(m.bigPullCurl, mbps)),
    figure('bigBlobPushCpu', `${blob} push, server CPU per GB`, 'CPU s', 2, field(m.bigPush, cpu)),
    figure('bigBlobPullCpu', `${blob} pull, server CPU per GB`, 'CPU s', 2, field(m.bigPull, cpu)),
    figure('imagePushSeconds', `image push, ${image}`, 's', 2, field(m.imagePush, seconds)),
    figure('imagePushLayers', 'image push, layers per second', 'layers/s', 0, field(m.imagePush, layers)),
    figure('imagePullSeconds', `image pull, ${image}`, 's', 2, field(m.imagePull, seconds)),
    figure('imagePullLayers', 'image pull, layers per second', 'layers/s', 0, field(m.imagePull, layers)),
    ...loadFigures('manifestHead', 'HEAD', m.manifestHead),
    ...loadFigures('manifestGet', 'GET', m.manifestGet),
    figure(
      'pushPeakRss',
      `peak RSS during ${blob} push`,
      'MB',
      0,
      field(m.bigPush, (r) => r.peakRssMb),
    ),
    figure(
      'overallPeakRss',
      'peak RSS over the whole run',
      'MB',
      0,
      once(m.overallPeakRssMb, (mb) => mb),
    ),
    figure('readyMs', 'time to ready (median)', 'ms', 0, m.readyMs),
  ];
}

export interface Ceiling {
  readonly mbPerSecond: number;
  readonly cpuSecondsPerGb: number;
  readonly mistrivePercent: number;
  readonly referencePercent: number;
}

export function ceilingOf(m: Measurements): Ceiling {
  const ceiling = median(m.ceiling.map((r) => r.mbPerSecond));
  const push = (results: readonly TransferResult[]) => median(results.map((r) => r.mbPerSecond));
  return {
    mbPerSecond: ceiling,
    cpuSecondsPerGb: median(m.ceiling.map((r) => r.cpuSecondsPerGb)),
    mistrivePercent: (100 * push(m.bigPush.mistrive)) / ceiling,
    referencePercent: (100 * push(m.bigPush.reference)) / ceiling,
  };
}

/** The targets mistrive must meet; a load test with failed requests fails its target too. */
export function checkTargets(figures: readonly Figure[], ceiling: Ceiling, m: Measurements): TargetCheck[] {
  const find = (key: string) => {
    const found = figures.find((f) => f.key === key);
    if (!found) throw new Error(`no figure ${key}`);
    return found;
  };
  const atLeastReference = (key: string, label: string, failedRequests = 0): TargetCheck => {
    const value = ratio(find(key)) ?? Number.NaN;
    const failures = failedRequests > 0 ? `, ${failedRequests} failed requests` : '';
    return {
      label,
      measured: `${formatNumber(value, 2)} x reference${failures}`,
      pass: value >= 1 && failedRequests === 0,
    };
  };
  const blob = find('bigBlobPush').label.replace(/ blob push$/, '');
  const pushRss = find('pushPeakRss').mistrive;
  const ready = find('readyMs').mistrive;
  const headFailures = m.manifestHead.mistrive.failures + m.manifestHead.reference.failures;
  return [
    atLeastReference('bigBlobPush', `${blob} push throughput >= reference`),
    // Judged where the server is the limit: a client that hashes what it receives tops out below
    // what either server sends, so that figure only measures the client (both are printed).
    atLeastReference('bigBlobPullCurl', `${blob} pull throughput >= reference (curl)`),
    atLeastReference('manifestHead', 'manifest HEAD throughput >= reference', headFailures),
    {
      label: `${blob} push >= 80 % of bare node:http`,
      measured: `${formatNumber(ceiling.mistrivePercent, 0)} %`,
      pass: ceiling.mistrivePercent >= 80,
    },
    {
      label: `RSS during ${blob} push < 150 MB`,
      measured: `${formatNumber(pushRss, 0)} MB`,
      pass: pushRss < 150,
    },
    { label: 'time to ready < 1 s', measured: `${formatNumber(ready, 0)} ms`, pass: ready < 1000 },
  ];
}

function sizeLabel(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  return `${bytes / 2 ** 10} KiB`;
}
