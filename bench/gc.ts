import { measureGcPass, measurePushes } from './scenarios/gc.js';

/** `npm run bench:gc [pass|pushes]`: the garbage collector's figures (see bench/scenarios/gc.ts). */
async function main(): Promise<void> {
  const only = process.argv[2];
  const pass = only === 'pushes' ? undefined : await measureGcPass();
  if (pass) {
    console.log(
      `GC pass over ${pass.blobs} blobs and ${pass.manifests} manifests: ${pass.seconds.toFixed(2)} s, peak RSS ${pass.peakRssMb.toFixed(0)} MB`,
    );
    console.log(
      `bytes reclaimed ${pass.bytesReclaimed}, unreferenced bytes seeded ${pass.unreferencedBytes}: ${pass.exact ? 'exact' : 'MISMATCH'}`,
    );
  }
  if (only === 'pass') return;
  const rounds = 3;
  const idle: { pushesPerSecond: number; p99ManifestPutMs: number }[] = [];
  const busy: typeof idle = [];
  for (let round = 0; round < rounds; round++) {
    // Alternated, so drift in the machine's load falls on both sides.
    idle.push(await measurePushes(300, 8, false));
    busy.push(await measurePushes(300, 8, true));
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const idleRate = median(idle.map((f) => f.pushesPerSecond));
  const busyRate = median(busy.map((f) => f.pushesPerSecond));
  const idleP99 = median(idle.map((f) => f.p99ManifestPutMs));
  const busyP99 = median(busy.map((f) => f.p99ManifestPutMs));
  console.log(
    `pushes/s idle ${idleRate.toFixed(0)}, while collecting ${busyRate.toFixed(0)} (idle/collecting ${(idleRate / busyRate).toFixed(2)}x)`,
  );
  console.log(
    `p99 manifest PUT idle ${idleP99.toFixed(1)} ms, while collecting ${busyP99.toFixed(1)} ms (${(busyP99 / idleP99).toFixed(2)}x; target 1.2x)`,
  );
  process.exitCode = pass === undefined || pass.exact ? 0 : 1;
}

await main();
