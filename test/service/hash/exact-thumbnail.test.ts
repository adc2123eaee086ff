// The WebAssembly horizontal pass must give exactly what the pure-JS Pillow port gives, on any size and channel count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExactThumbnail } from '../../../src/service/hash/exact-thumbnail.js';
import { getWasmHorizontalPass } from '../../../src/service/hash/wasm-horizontal-pass.js';
import { createRandom } from '../../helpers/images.js';

test('WebAssembly SIMD is available on this Node, so the fast path is the one being tested', () => {
  assert.notEqual(getWasmHorizontalPass(), null);
});

test('the WebAssembly and JS paths agree bit for bit on 300 random images of 1–4 channels', () => {
  const random = createRandom(5);
  for (let t = 0; t < 300; t++) {
    // Mostly small sizes (every window/edge combination), some large ones (long kernels, memory growth).
    const width = 1 + Math.floor(random() * (t < 240 ? 60 : 1500));
    const height = 1 + Math.floor(random() * (t < 240 ? 60 : 900));
    const channels = 1 + (t % 4);
    const pixels = Uint8Array.from({ length: width * height * channels }, () => Math.floor(random() * 256));
    const wasm = createExactThumbnail(pixels, width, height, channels, 9, 8);
    const js = createExactThumbnail(pixels, width, height, channels, 9, 8, { useWasm: false });
    assert.deepEqual(Array.from(wasm), Array.from(js), `${width}x${height}x${channels}`);
  }
});

test('extreme pixel values clip exactly as in JS (overshoot of the negative lobes)', () => {
  // Alternating black/white columns make the lanczos lobes overshoot below 0 and above 255 before clipping.
  for (const [width, height] of [
    [10, 8],
    [19, 17],
    [37, 3],
    [640, 9],
  ]) {
    const pixels = Uint8Array.from({ length: width * height }, (_, i) => ((i % width) % 2 === 0 ? 0 : 255));
    const wasm = createExactThumbnail(pixels, width, height, 1, 9, 8);
    const js = createExactThumbnail(pixels, width, height, 1, 9, 8, { useWasm: false });
    assert.deepEqual(Array.from(wasm), Array.from(js), `${width}x${height}`);
  }
});

test('rejects a pixel buffer shorter than width x height x channels', () => {
  assert.throws(
    () => createExactThumbnail(new Uint8Array(10), 20, 20, 3, 9, 8),
    /Expected 1200 bytes of pixels, got 10/,
  );
});

test('releases kernel memory after a large image and still hashes correctly afterwards', () => {
  const width = 5000;
  const height = 4000;
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i % width) >> 5;
  const first = createExactThumbnail(pixels, width, height, 1, 9, 8);
  assert.ok(
    (getWasmHorizontalPass()?.memory.buffer.byteLength ?? 0) < width * height,
    'the 20 MB of rows were not kept',
  );
  assert.deepEqual(Array.from(createExactThumbnail(pixels, width, height, 1, 9, 8)), Array.from(first));
  const small = Uint8Array.from({ length: 300 * 200 }, (_, i) => (i * 31) % 256);
  assert.deepEqual(
    Array.from(createExactThumbnail(small, 300, 200, 1, 9, 8)),
    Array.from(createExactThumbnail(small, 300, 200, 1, 9, 8, { useWasm: false })),
  );
});
