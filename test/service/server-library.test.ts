import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestService } from '../helpers/service.js';
import { createFixtureImage } from '../helpers/images.js';
import { hammingDistance, hashImage } from '../../src/service/hash/hash-image.js';

const QUEUE = 'dhash_low_confidence_queue_length';
const SUCCESS = 'dhash_extractions_total{outcome="success"}';

const postImage = (url: string, body: Uint8Array) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'image/png' } });
const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/**
 * The fixture with a white square pasted in its corner: a 60 px square moves the dhash 6 bits (review), 20 px 2 bits.
 */
async function createModifiedImage(original: Buffer, squarePx: number): Promise<Buffer> {
  const patch = await sharp({ create: { width: squarePx, height: squarePx, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
  return sharp(original)
    .composite([{ input: patch, left: 10, top: 10 }])
    .png()
    .toBuffer();
}

test(`library add → match at distance 0; a modified image → review queued (gauge 1); resolve same → \
library grows (gauge 0)`, async (t) => {
  const service = await startTestService(t);
  const original = await createFixtureImage({ kind: 'photo', width: 160, height: 120, seed: 5, format: 'png' });
  const modified = await createModifiedImage(original, 60);
  const originalHash = (await hashImage(original)).hash;
  const modifiedHash = (await hashImage(modified)).hash;
  assert.equal(hammingDistance(originalHash, modifiedHash), 6);

  const added = await postImage(`${service.url}/v1/library?label=cat`, original);
  assert.equal(added.status, 201);
  const entry = (await added.json()) as { id: number; label: string; hash: string; source: string };
  assert.deepEqual(
    { label: entry.label, hash: entry.hash, source: entry.source },
    { label: 'cat', hash: originalHash, source: 'image' },
  );

  const exact = await postImage(`${service.url}/v1/match`, original);
  assert.equal(exact.status, 200);
  assert.deepEqual(await exact.json(), {
    hash: originalHash,
    decision: 'match',
    matches: [{ id: entry.id, label: 'cat', hash: originalHash, distance: 0, confidence: 1 }],
  });
  assert.equal(await service.readMetric(QUEUE), 0);

  const review = await postImage(`${service.url}/v1/match?label=cat-edited`, modified);
  const reviewBody = (await review.json()) as {
    decision: string;
    reviewId: number;
    matches: { distance: number; confidence: number }[];
  };
  assert.equal(reviewBody.decision, 'review');
  assert.deepEqual(
    reviewBody.matches.map((m) => [m.distance, m.confidence]),
    [[6, 0.9063]],
  );
  assert.equal(await service.readMetric(QUEUE), 1);

  const queue = (await (await fetch(`${service.url}/v1/review?status=pending`)).json()) as {
    total: number;
    items: Record<string, unknown>[];
  };
  assert.equal(queue.total, 1);
  assert.deepEqual(
    {
      id: queue.items[0].id,
      queryHash: queue.items[0].queryHash,
      queryLabel: queue.items[0].queryLabel,
      candidateId: queue.items[0].candidateId,
      distance: queue.items[0].distance,
      status: queue.items[0].status,
    },
    {
      id: reviewBody.reviewId,
      queryHash: modifiedHash,
      queryLabel: 'cat-edited',
      candidateId: entry.id,
      distance: 6,
      status: 'pending',
    },
  );

  const resolved = await postJson(`${service.url}/v1/review/${reviewBody.reviewId}/resolve`, { resolution: 'same' });
  assert.equal(resolved.status, 200);
  const resolvedBody = (await resolved.json()) as {
    item: { status: string };
    libraryEntry: { id: number; hash: string };
  };
  assert.equal(resolvedBody.item.status, 'same');
  assert.equal(resolvedBody.libraryEntry.hash, modifiedHash);
  assert.equal(await service.readMetric(QUEUE), 0);
  const library = (await (await fetch(`${service.url}/v1/library`)).json()) as { total: number };
  assert.equal(library.total, 2);

  // The index learned the resolved entry: the modified image now matches itself exactly.
  const again = (await (await postImage(`${service.url}/v1/match`, modified)).json()) as {
    decision: string;
    matches: { id: number; distance: number }[];
  };
  assert.equal(again.decision, 'match');
  assert.deepEqual(
    again.matches.map((m) => [m.id, m.distance]),
    [
      [resolvedBody.libraryEntry.id, 0],
      [entry.id, 6],
    ],
  );
  // Hashes: library add, match, match, match = 4 extraction attempts, all successful.
  assert.equal(await service.readMetric(SUCCESS), 4);
  assert.equal(await service.readMetric('dhash_hash_duration_seconds_count'), 4);

  const twice = await postJson(`${service.url}/v1/review/${reviewBody.reviewId}/resolve`, { resolution: 'different' });
  assert.equal(twice.status, 409);
  assert.equal(((await twice.json()) as { error: { code: string } }).error.code, 'EREVIEWALREADYRESOLVED');
});

test('a distant image is `none` with no candidates; JSON add and delete keep the index in step', async (t) => {
  const service = await startTestService(t);
  const photo = await createFixtureImage({ kind: 'photo', width: 160, height: 120, seed: 5, format: 'png' });
  const other = await createFixtureImage({ kind: 'checkerboard', width: 90, height: 70, seed: 9, format: 'png' });
  const photoHash = (await hashImage(photo)).hash;
  const otherHash = (await hashImage(other)).hash;
  assert.ok(hammingDistance(photoHash, otherHash) > 10);

  const added = await postJson(`${service.url}/v1/library`, { label: 'from-json', hash: photoHash });
  assert.equal(added.status, 201);
  const entry = (await added.json()) as { id: number; source: string };
  assert.equal(entry.source, 'api');

  assert.deepEqual(await (await postImage(`${service.url}/v1/match`, other)).json(), {
    hash: otherHash,
    decision: 'none',
    matches: [],
  });
  assert.equal(
    ((await (await postImage(`${service.url}/v1/match`, photo)).json()) as { decision: string }).decision,
    'match',
  );

  const deleted = await fetch(`${service.url}/v1/library/${entry.id}`, { method: 'DELETE' });
  assert.equal(deleted.status, 200);
  assert.deepEqual(await (await postImage(`${service.url}/v1/match`, photo)).json(), {
    hash: photoHash,
    decision: 'none',
    matches: [],
  });
  const again = await fetch(`${service.url}/v1/library/${entry.id}`, { method: 'DELETE' });
  assert.equal(again.status, 404);
  assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'ELIBRARYENTRYNOTFOUND');
});

test('resolving `different` leaves the library alone and empties the queue', async (t) => {
  const service = await startTestService(t);
  const original = await createFixtureImage({ kind: 'photo', width: 160, height: 120, seed: 5, format: 'png' });
  await postImage(`${service.url}/v1/library?label=cat`, original);
  const review = (await (
    await postImage(`${service.url}/v1/match`, await createModifiedImage(original, 60))
  ).json()) as { reviewId: number };
  assert.equal(await service.readMetric(QUEUE), 1);
  const resolved = await postJson(`${service.url}/v1/review/${review.reviewId}/resolve`, { resolution: 'different' });
  assert.equal(resolved.status, 200);
  assert.equal(((await resolved.json()) as { libraryEntry?: unknown }).libraryEntry, undefined);
  assert.equal(await service.readMetric(QUEUE), 0);
  assert.equal(((await (await fetch(`${service.url}/v1/library`)).json()) as { total: number }).total, 1);
});
