// Where the benchmarks find the team's shared material (HL7 samples, MedCom packages): ../shared or $ADVIS_SHARED_DIR.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sharedPath(...parts: string[]): string {
  const dir = process.env.ADVIS_SHARED_DIR ?? path.resolve(process.cwd(), '..', 'shared');
  const full = path.join(dir, ...parts);
  if (!fs.existsSync(full)) throw new Error(`${full} is missing: the benchmarks need ../shared beside the checkout (or ADVIS_SHARED_DIR)`);
  return full;
}

/** Runs `step` for about `ms` milliseconds after a warm-up and returns the operations per second. */
export function rate(step: () => number, ms = 2000): number {
  for (let t = performance.now(); performance.now() - t < 300; ) step();
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < ms) done += step();
  return (done * 1000) / (performance.now() - start);
}
