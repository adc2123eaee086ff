// The same service cases on both stores (SQLite file, real PostgreSQL 15): library, matches, review queue, metrics,
// bad input, the schema guard at start; and the two engines' answers compared byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createFixtureImage } from '../helpers/images.js';
import { createManualClock } from '../../src/lib/clock.js';
import { isDhashError } from '../../src/lib/errors.js';
import { hammingDistance, hashImage } from '../../src/service/hash/hash-image.js';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  openDatabase,
  applyPendingMigrations,
} from '../../src/service/store/index.js';
import { createPostgresPool, applyPendingPostgresMigrations } from '../../src/service/store/postgres/index.js';
import type { StoreLocation } from '../../src/service/store/open-service-store.js';
import type { StoreEngine } from '../../src/service/store/service-store.js';
import { STORE_ENGINES, startEngineService, useStoreEngines, type EngineService } from './store-engines.js';

const engines = useStoreEngines();
const QUEUE = 'dhash_low_confidence_queue_length';
const SUCCESS = 'dhash_extractions_total{outcome="success"}';
const FAILURE = 'dhash_extractions_total{outcome="failure"}';
const START_MS = Date.parse('2026-12-01T10:00:00.000Z');

interface Exchange {
  step: string;
  status: number;
  body: unknown;
}

interface Images {
  photo: Buffer;
  edited: Buffer;
  checkerboard: Buffer;
  photoHash: string;
  editedHash: string;
  /** Every bit of the photo's hash flipped: a library entry no query here comes near. */
  farHash: string;
}

let imagesMade: Promise<Images> | undefined;
const getImages = () => (imagesMade ??= createImages());

async function createImages(): Promise<Images> {
  const photo = await createFixtureImage({ kind: 'photo', width: 160, height: 120, seed: 5, format: 'png' });
  const patch = await sharp({ create: { width: 60, height: 60, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
  const edited = await sharp(photo)
    .composite([{ input: patch, left: 10, top: 10 }])
    .png()
    .toBuffer();
  const checkerboard = await createFixtureImage({
    kind: 'checkerboard',
    width: 90,
    height: 70,
    seed: 9,
    format: 'png',
  });
  const photoHash = (await hashImage(photo)).hash;
  const farHash = (BigInt(`0x${photoHash}`) ^ 0xffffffffffffffffn).toString(16).padStart(16, '0');
  return { photo, edited, checkerboard, photoHash, editedHash: (await hashImage(edited)).hash, farHash };
}

/** Runs the scenario against one service and returns every exchange (the engines must produce the same list). */
async function runScenario(service: EngineService, images: Images, transcript: Exchange[]): Promise<void> {
  const call = async (step: string, path: string, init: RequestInit = {}): Promise<Exchange> => {
    const response = await fetch(`${service.url}${path}`, init);
    const exchange = { step, status: response.status, body: await response.json() };
    transcript.push(exchange);
    return exchange;
  };
  const image = (body: Buffer): RequestInit => ({
    method: 'POST',
    body,
    headers: { 'content-type': 'image/png' },
  });
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

  await call('add image', '/v1/library?label=cat', image(images.photo));
  await call('add json', '/v1/library', json({ label: 'far', hash: images.farHash, source: 'ignored' }));
  await call('page 2 of 1', '/v1/library?limit=1&offset=1');
  await call('match exact', '/v1/match', image(images.photo));
  await call('match review', '/v1/match?label=cat-edited', image(images.edited));
  await call('match none', '/v1/match', image(images.checkerboard));
  await call('queue', '/v1/review?status=pending');
  await call('resolve same', '/v1/review/1/resolve', json({ resolution: 'same' }));
  await call('resolve again', '/v1/review/1/resolve', json({ resolution: 'different' }));
  await call('match resolved', '/v1/match', image(images.edited));
  await call('delete', '/v1/library/2', { method: 'DELETE' });
  await call('delete again', '/v1/library/2', { method: 'DELETE' });
  await call('library', '/v1/library');
  await call('review all', '/v1/review');
  await call('bad hash', '/v1/library', json({ label: 'x', hash: 'xyz' }));
  await call('empty label', '/v1/library', json({ label: ' ', hash: images.farHash }));
  await call('limit 0', '/v1/library?limit=0');
  await call('offset -1', '/v1/review?offset=-1');
  await call('bad status', '/v1/review?status=maybe');
  await call('bad verdict', '/v1/review/999/resolve', json({ resolution: 'maybe' }));
  await call('unknown item', '/v1/review/999/resolve', json({ resolution: 'same' }));
  await call('bad id', '/v1/library/abc', { method: 'DELETE' });
}

const transcripts = new Map<StoreEngine, Exchange[]>();

for (const engine of STORE_ENGINES) {
  test(`${engine}: library, matches, review queue, gauge and bad input answer as the contract says`, async (t) => {
    const images = await getImages();
    assert.equal(hammingDistance(images.photoHash, images.editedHash), 6);
    assert.ok(hammingDistance(images.photoHash, (await hashImage(images.checkerboard)).hash) > 10);
    // A manual clock: every createdAt is the same on both engines, so their answers can be compared whole.
    const service = await startEngineService(t, await engines.createLocation(t, engine), {
      clock: createManualClock(START_MS),
    });
    const transcript: Exchange[] = [];
    await runScenario(service, images, transcript);
    transcripts.set(engine, transcript);
    const at = (step: string) => transcript.find((e) => e.step === step)!;
    const at0 = new Date(START_MS).toISOString();

    assert.deepEqual(at('add image'), {
      step: 'add image',
      status: 201,
      body: { id: 1, label: 'cat', hash: images.photoHash, source: 'image', createdAt: at0 },
    });
    assert.equal(at('add json').status, 201);
    assert.deepEqual(at('page 2 of 1').body, {
      items: [{ id: 2, label: 'far', hash: images.farHash, source: 'api', createdAt: at0 }],
      total: 2,
      limit: 1,
      offset: 1,
    });
    assert.deepEqual(at('match exact').body, {
      hash: images.photoHash,
      decision: 'match',
      matches: [{ id: 1, label: 'cat', hash: images.photoHash, distance: 0, confidence: 1 }],
    });
    assert.deepEqual(at('match review').body, {
      hash: images.editedHash,
      decision: 'review',
      matches: [{ id: 1, label: 'cat', hash: images.photoHash, distance: 6, confidence: 0.9063 }],
      reviewId: 1,
    });
    assert.equal((at('match none').body as { decision: string }).decision, 'none');
    assert.deepEqual(at('queue').body, {
      items: [
        {
          id: 1,
          queryHash: images.editedHash,
          queryLabel: 'cat-edited',
          querySource: 'match',
          candidateId: 1,
          candidateLabel: 'cat',
          candidateHash: images.photoHash,
          distance: 6,
          status: 'pending',
          createdAt: at0,
          resolvedAt: null,
          resolvedEntryId: null,
        },
      ],
      total: 1,
      limit: 100,
      offset: 0,
    });
    const resolved = at('resolve same').body as {
      item: { status: string; resolvedEntryId: number };
      libraryEntry: unknown;
    };
    assert.equal(resolved.item.status, 'same');
    assert.equal(resolved.item.resolvedEntryId, 3);
    assert.deepEqual(resolved.libraryEntry, {
      id: 3,
      label: 'cat-edited',
      hash: images.editedHash,
      source: 'review:1',
      createdAt: at0,
    });
    assert.equal(at('resolve again').status, 409);
    assert.deepEqual(
      (at('match resolved').body as { matches: { id: number; distance: number }[] }).matches.map((m) => [
        m.id,
        m.distance,
      ]),
      [
        [3, 0],
        [1, 6],
      ],
    );
    assert.equal(at('delete').status, 200);
    assert.equal((at('library').body as { total: number }).total, 2);
    const errors = transcript
      .slice(transcript.findIndex((e) => e.step === 'delete again'))
      .filter((e) => e.status >= 400);
    assert.deepEqual(
      errors.map((e) => [e.step, e.status, (e.body as { error: { code: string } }).error.code]),
      [
        ['delete again', 404, 'ELIBRARYENTRYNOTFOUND'],
        ['bad hash', 400, 'EINVALIDHASH'],
        ['empty label', 400, 'EINVALIDOPTION'],
        ['limit 0', 400, 'EINVALIDOPTION'],
        ['offset -1', 400, 'EINVALIDOPTION'],
        ['bad status', 400, 'EINVALIDOPTION'],
        ['bad verdict', 400, 'EINVALIDOPTION'],
        ['unknown item', 404, 'EREVIEWITEMNOTFOUND'],
        ['bad id', 400, 'EBADREQUEST'],
      ],
    );
    assert.equal(
      (at('limit 0').body as { error: { message: string } }).error.message,
      'Expected the `limit` option to be an integer from 1 to 1000, got `0` (number).',
    );
    // The gauge counts the one pending item while it waits and none once resolved: 0 now.
    assert.equal(await service.readMetric(QUEUE), 0);
    // Extraction attempts: one library image, four matches.
    assert.equal(await service.readMetric(SUCCESS), 5);
    assert.equal(await service.readMetric(FAILURE), 0);
  });
}

test('both engines gave the same status and the same JSON for every request of the scenario', () => {
  const sqlite = transcripts.get('sqlite');
  const postgres = transcripts.get('postgres');
  assert.ok(sqlite && postgres, 'both engine runs must have completed');
  assert.deepEqual(postgres, sqlite);
});

for (const engine of STORE_ENGINES) {
  test(`${engine}: the queue gauge follows enqueue and resolve, and counts items another host queued`, async (t) => {
    const images = await getImages();
    const location = await engines.createLocation(t, engine);
    const service = await startEngineService(t, location);
    await fetch(`${service.url}/v1/library?label=cat`, {
      method: 'POST',
      body: images.photo,
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(await service.readMetric(QUEUE), 0);
    await fetch(`${service.url}/v1/match`, {
      method: 'POST',
      body: images.edited,
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(await service.readMetric(QUEUE), 1);
    // A second service on the same database queues one more: this one's scrape counts it.
    const other = await startEngineService(t, location, { migrate: false });
    await fetch(`${other.url}/v1/match`, {
      method: 'POST',
      body: images.edited,
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(await service.readMetric(QUEUE), 2);
    await fetch(`${service.url}/v1/review/1/resolve`, {
      method: 'POST',
      body: JSON.stringify({ resolution: 'different' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(await service.readMetric(QUEUE), 1);
  });

  test(`${engine}: /health names the engine and an ok index sync`, async (t) => {
    const service = await startEngineService(t, await engines.createLocation(t, engine), {
      limits: { pdfimagesCommand: '/nonexistent/pdfimages' },
    });
    const response = await fetch(`${service.url}/health`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { sync: { lagMs: number } };
    assert.ok(body.sync.lagMs >= 0 && body.sync.lagMs <= 1000, `lagMs ${body.sync.lagMs}`);
    assert.deepEqual(
      { ...body, sync: { ...body.sync, lagMs: 0 } },
      {
        status: 'ok',
        version: '9.8.7-test',
        engine,
        schemaVersion: LATEST_SCHEMA_VERSION,
        checks: { database: 'ok', pdf: 'unavailable', sync: 'ok' },
        sync: { seq: 0, lagMs: 0 },
      },
    );
  });

  test(`${engine}: a database behind is refused at start: ESCHEMABEHIND says what to run`, async (t) => {
    const location = await engines.createLocation(t, engine);
    await migrateTo(location, 1);
    const started = startEngineService(t, location, { migrate: false });
    await assert.rejects(started, (e) => {
      assert.ok(isDhashError(e, 'ESCHEMABEHIND'), String(e));
      assert.equal(e.exitCode, 3);
      const database = describeLocation(location);
      assert.equal(
        e.message,
        `The database ${database} has schema version 1, behind this release's ${LATEST_SCHEMA_VERSION} ` +
          `(${LATEST_SCHEMA_VERSION - 1} pending migration${LATEST_SCHEMA_VERSION - 1 === 1 ? '' : 's'}).`,
      );
      assert.match(
        e.details,
        engine === 'postgres' ? /Run `npx dhash migrate` with DHASH_DATABASE_URL set to this database/ : /--db /,
      );
      assert.ok(!`${e.message}${e.details}`.includes(':secret@'), 'the password never appears');
      return true;
    });
  });
}

/** Applies the first `version` migrations, as an older release left the database. */
async function migrateTo(location: StoreLocation, version: number): Promise<void> {
  const migrations = MIGRATIONS.filter((m) => m.version <= version);
  if (location.engine === 'sqlite') {
    const db = openDatabase(location.file);
    applyPendingMigrations(db, { migrations });
    db.close();
    return;
  }
  const pool = createPostgresPool(location.url);
  await applyPendingPostgresMigrations(pool, { migrations });
  await pool.end();
}

function describeLocation(location: StoreLocation): string {
  if (location.engine === 'sqlite') return location.file;
  const url = new URL(location.url);
  return `postgres://${url.username}@${url.host}${url.pathname}`;
}
