import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceMetrics } from '../../src/service/metrics.js';
import { readSample } from '../helpers/service.js';

test(`counts successes into the histogram, failures only into the counter, and keeps the queue gauge as \
set`, async () => {
  const metrics = createServiceMetrics({ version: '1.2.3', shouldCollectDefaults: false });
  metrics.recordExtraction('success', 0.004);
  metrics.recordExtraction('success', 1.5);
  metrics.recordExtraction('success', 2);
  metrics.recordExtraction('failure');
  metrics.setQueueLength(7);
  const { contentType, body } = await metrics.getExposition();
  assert.match(contentType, /^text\/plain/);
  assert.equal(readSample(body, 'dhash_extractions_total{outcome="success"}'), 3);
  assert.equal(readSample(body, 'dhash_extractions_total{outcome="failure"}'), 1);
  assert.equal(readSample(body, 'dhash_hash_duration_seconds_bucket{le="0.005"}'), 1);
  assert.equal(readSample(body, 'dhash_hash_duration_seconds_bucket{le="1"}'), 1);
  // le="2" is inclusive: an observation of exactly 2 s is inside it (the p95 gate's boundary).
  assert.equal(readSample(body, 'dhash_hash_duration_seconds_bucket{le="2"}'), 3);
  assert.equal(readSample(body, 'dhash_hash_duration_seconds_count'), 3);
  assert.equal(readSample(body, 'dhash_hash_duration_seconds_sum'), 3.504);
  assert.equal(readSample(body, 'dhash_low_confidence_queue_length'), 7);
  assert.equal(readSample(body, 'dhash_build_info{version="1.2.3"}'), 1);
});

test(`two registries in one process never share values, and default process metrics are included unless \
turned off`, async () => {
  const a = createServiceMetrics({ version: 'a' });
  const b = createServiceMetrics({ version: 'b', shouldCollectDefaults: false });
  a.recordExtraction('failure');
  assert.equal(readSample((await b.getExposition()).body, 'dhash_extractions_total{outcome="failure"}'), 0);
  assert.match((await a.getExposition()).body, /^process_cpu_user_seconds_total /m);
  assert.doesNotMatch((await b.getExposition()).body, /process_cpu_user_seconds_total/);
});
