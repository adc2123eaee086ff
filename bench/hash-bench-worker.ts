// Benchmark worker thread: hashes its share of files one at a time with one decoder candidate and reports each latency.
import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { hashImageDetailed, type HashMode } from '../src/service/hash/hash-image.js';

interface WorkerInput {
  files: string[];
  warmupFiles: string[];
  mode: HashMode;
  /** 'auto': what the service runs (native addon where it applies); 'sharp': the sharp-only path; 'zlib',
   * 'libdeflate', 'own': auto with every PNG inflated by that inflater. */
  decoder: 'auto' | 'sharp' | 'zlib' | 'libdeflate' | 'own';
}

const { files, warmupFiles, mode, decoder } = workerData as WorkerInput;
const hashes: Record<string, string> = {};
const decoders: Record<string, number> = {};

/**
 * Each file is read into one reused buffer (fstat, then readSync), not with fs/promises' readFile: that reads in
 * 512 KiB pieces and joins them into a fresh buffer, whose allocation and page faults cost 2–3 ms of CPU per 2.4 MB
 * PNG here, more than some decoders' whole saving, and none of it is hashing (the service gets bytes from a socket).
 * Pillow's time likewise includes its own buffered file read. A worker thread may block.
 */
let readBuffer = Buffer.alloc(0);

function readIntoBuffer(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (readBuffer.length < size) readBuffer = Buffer.alloc(size);
    let done = 0;
    for (let n = -1; done < size && n !== 0; done += n) n = readSync(fd, readBuffer, done, size - done, done);
    return readBuffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

async function hashFile(file: string): Promise<number> {
  const started = performance.now();
  const result = await hashImageDetailed(readIntoBuffer(file), {
    mode,
    decoder: decoder === 'auto' || decoder === 'sharp' ? decoder : `${decoder}-inflate`,
  });
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
