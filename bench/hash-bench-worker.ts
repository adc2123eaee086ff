// Benchmark worker thread: hashes its share of files one at a time with one decoder candidate and reports each latency.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { hashImageDetailed, type HashMode } from '../src/service/hash/index.js';

interface WorkerInput {
  files: string[];
  warmupFiles: string[];
  mode: HashMode;
  /** 'auto': what the service runs (native addon where it applies); 'sharp': the sharp-only path. */
  decoder: 'auto' | 'sharp';
}

const { files, warmupFiles, mode, decoder } = workerData as WorkerInput;
const hashes: Record<string, string> = {};
const decoders: Record<string, number> = {};

/**
 * readFileSync, not fs/promises' readFile: the latter reads in 512 KiB pieces and joins them, which cost 2–3 ms of CPU
 * per 2.4 MB PNG here, more than the inflate's saving, and none of it is hashing (the service gets bytes from a socket).
 * A worker thread may block. Pillow's time likewise includes its own (buffered) file read.
 */
async function hashFile(file: string): Promise<number> {
  const started = performance.now();
  const result = await hashImageDetailed(readFileSync(file), { mode, decoder });
  const elapsedMs = performance.now() - started;
  hashes[file] = result.hash;
  decoders[result.decoder] = (decoders[result.decoder] ?? 0) + 1;
  return elapsedMs;
}

// Warm the JIT and sharp before the clock starts, then wait for the common start signal.
for (const file of warmupFiles) await hashFile(file);
for (const key of Object.keys(decoders)) delete decoders[key];
parentPort?.postMessage({ type: 'ready' });
parentPort?.once('message', async () => {
  const latenciesMs: number[] = [];
  for (const file of files) latenciesMs.push(await hashFile(file));
  parentPort?.postMessage({ type: 'done', latenciesMs, hashes, decoders });
});
