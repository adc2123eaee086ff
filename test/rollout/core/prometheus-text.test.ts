import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHistogramBuckets, parsePrometheusText, sumSamples } from '../../../src/rollout/core/prometheus-text.js';
import { extractDhashMetrics } from '../../../src/rollout/signals/service/service-source.js';

const PAGE = `# HELP dhash_extractions_total Extraction attempts by outcome.
# TYPE dhash_extractions_total counter
dhash_extractions_total{outcome="success"} 120
dhash_extractions_total{outcome="failure"} 7
# TYPE dhash_hash_duration_seconds histogram
dhash_hash_duration_seconds_bucket{le="1"} 100
dhash_hash_duration_seconds_bucket{le="2"} 115
dhash_hash_duration_seconds_bucket{le="+Inf"} 120
dhash_hash_duration_seconds_sum 80.5
dhash_hash_duration_seconds_count 120
dhash_low_confidence_queue_length 3
dhash_build_info{version="1.2.3",note="a \\"quoted\\" value, with comma"} 1 1700000000000
`;

test('parses samples, labels with escapes and timestamps, and +Inf', () => {
  const samples = parsePrometheusText(PAGE);
  assert.equal(samples.length, 9);
  assert.deepEqual(samples.at(-1), {
    name: 'dhash_build_info',
    labels: { version: '1.2.3', note: 'a "quoted" value, with comma' },
    value: 1,
  });
  assert.equal(sumSamples(samples, 'dhash_extractions_total'), 127);
  assert.equal(sumSamples(samples, 'dhash_extractions_total', { outcome: 'failure' }), 7);
  assert.equal(sumSamples(samples, 'nope'), undefined);
  assert.deepEqual(getHistogramBuckets(samples, 'dhash_hash_duration_seconds'), [
    { le: 1, count: 100 },
    { le: 2, count: 115 },
    { le: Infinity, count: 120 },
  ]);
});

test('extracts the four dhash metrics, and names the missing ones', () => {
  assert.deepEqual(extractDhashMetrics(PAGE), {
    kind: 'cumulative',
    extractionSuccess: 120,
    extractionFailure: 7,
    queueLength: 3,
    hashBuckets: { '1': 100, '2': 115, Infinity: 120 },
  });
  assert.throws(() => extractDhashMetrics('dhash_low_confidence_queue_length 1\n'), {
    message:
      'metrics page lacks dhash_extractions_total{outcome="success"}, ' +
      'dhash_extractions_total{outcome="failure"}, dhash_hash_duration_seconds_bucket',
  });
  assert.throws(() => parsePrometheusText('ok 1\nthis is { not metrics'), {
    message: /^metrics line 2 is not in the Prometheus text format/,
  });
});
