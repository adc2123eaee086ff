// Benchmark worker thread: hashes its share of files one at a time and reports each latency.
import { parentPort, workerData } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { hashImage, type HashMode } from '../src/service/hash/index.js';

interface WorkerInput {
  files: string[];
  warmupFiles: string[];
  mode: HashMode;
}

const { files, warmupFiles, mode } = workerData as WorkerInput;

async function hashFile(file: string): Promise<number> {
  const started = performance.now();
  await hashImage(await readFile(file), { mode });
  return performance.now() - started;
}

// Warm the JIT and sharp before the clock starts, then wait for the common start signal.
for (const file of warmupFiles) await hashFile(file);
parentPort?.postMessage({ type: 'ready' });
parentPort?.once('message', async () => {
  const latenciesMs: number[] = [];
  for (const file of files) latenciesMs.push(await hashFile(file));
  parentPort?.postMessage({ type: 'done', latenciesMs });
});
