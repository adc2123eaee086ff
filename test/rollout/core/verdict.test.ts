// The pure verdict for Argo/Flagger from literal measurements, the `Nan` prom-client writes, and the template's YAML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeVerdict, getFlaggerStatus } from '../../../src/rollout/core/verdict.js';
import { renderArgoAnalysisTemplate, getAnalysisTemplateName } from '../../../src/rollout/core/argo-analysis.js';
import { parsePrometheusText } from '../../../src/rollout/core/prometheus-text.js';
import type { ResolvedGates } from '../../../src/rollout/config/quality-gates.js';
import type { Measurement } from '../../../src/rollout/core/signal-values.js';

const GATES: ResolvedGates = {
  health: { maxConsecutiveFailures: 2, action: 'rollback' },
  extractionFailureRate: { maxPercent: 5, windowMs: 600_000, minEvents: 20, action: 'rollback' },
  p95HashTime: { maxMs: 2000, windowMs: 900_000, minEvents: 20, action: 'rollback' },
  lowConfidenceQueue: { maxItems: 1000, action: 'rollback' },
  cpu: { maxPercent: 90, windowMs: 300_000, action: 'alert' },
  memory: { maxPercent: 90, action: 'alert' },
  disk: { maxPercent: 90, action: 'alert' },
};
const NOW = Date.parse('2026-12-01T12:00:00.000Z');

function measure(
  success: number,
  failure: number,
  options: { isHealthy?: boolean; queue?: number; memoryPercent?: number } = {},
): Measurement {
  return {
    value: {
      health:
        options.isHealthy === false
          ? { ok: false, httpStatus: 503, latencyMs: 3, error: 'unhealthy' }
          : { ok: true, httpStatus: 200, latencyMs: 3 },
      metrics: {
        kind: 'cumulative',
        extractionSuccess: success,
        extractionFailure: failure,
        queueLength: options.queue ?? 0,
        hashBuckets: { '0.1': success + failure, '2': success + failure, Infinity: success + failure },
      },
      host: { memoryPercent: options.memoryPercent ?? 10 },
    },
    startedAt: NOW,
    finishedAt: NOW,
    phase: options.isHealthy === false ? 'error' : 'ok',
  };
}
const judge = (m: Measurement) =>
  judgeVerdict({ gates: GATES, measurement: m, nowMs: NOW, envName: 'production', releaseId: 'r1' });

test('5 % failures is a pass and the next failure a fail: the boundary is the gate threshold, exclusive', () => {
  const atLimit = judge(measure(19, 1));
  assert.deepEqual([atLimit.verdict, atLimit.ok, getFlaggerStatus(atLimit)], ['pass', true, 200]);
  assert.equal(atLimit.at, '2026-12-01T12:00:00.000Z');
  assert.equal(atLimit.release, 'r1');
  const over = judge(measure(19, 2));
  assert.deepEqual([over.verdict, over.ok, getFlaggerStatus(over)], ['fail', false, 503]);
  assert.equal(over.reason, 'ExtractionFailureRate is 9.5 %, over its threshold of 5 %.');
});

test('19 events is inconclusive and 20 is judged; alert gates never fail the verdict', () => {
  assert.equal(judge(measure(19, 0)).verdict, 'inconclusive');
  assert.equal(judge(measure(20, 0, { memoryPercent: 99 })).verdict, 'pass');
  assert.equal(judge(measure(20, 0, { queue: 1001 })).verdict, 'fail');
});

test('an unhealthy service fails; unreadable metrics are inconclusive; Flagger halts on both', () => {
  const unhealthy = judge(measure(100, 0, { isHealthy: false }));
  assert.equal(unhealthy.verdict, 'fail');
  assert.equal(unhealthy.reason, 'The service is not healthy (unhealthy).');
  const blind: Measurement = {
    ...measure(0, 0),
    value: { health: { ok: true, latencyMs: 1 }, metricsError: 'GET /metrics answered HTTP 500' },
    phase: 'error',
  };
  const report = judge(blind);
  assert.deepEqual([report.verdict, getFlaggerStatus(report), report.gates], ['inconclusive', 503, []]);
  assert.equal(report.reason, 'The gates could not be judged: GET /metrics answered HTTP 500.');
});

test('prom-client writes NaN as `Nan`, which parses as NaN instead of making the page unreadable', () => {
  const [sample] = parsePrometheusText('dhash_admission_ratio Nan\n');
  assert.ok(Number.isNaN(sample.value));
  assert.throws(() => parsePrometheusText('dhash_x nope\n'), /metrics line 1 has a value that is not a number: nope/);
});

test(`the AnalysisTemplate quotes every string as JSON, so a URL with # or a condition with quotes cannot \
break the YAML`, () => {
  const yaml = renderArgoAnalysisTemplate({
    envName: 'Prod_EU',
    verdictUrl: 'http://g:8790/v1/verdict#x',
    intervalMs: 30_000,
    count: 120,
    failureLimit: 0,
    inconclusiveLimit: 2,
    timeoutSeconds: 20,
  });
  assert.equal(getAnalysisTemplateName('Prod_EU'), 'dhash-gates-prod-eu');
  assert.match(yaml, /^ {10}url: "http:\/\/g:8790\/v1\/verdict#x"$/m);
  assert.match(yaml, /^ {6}failureCondition: "result.verdict == 'fail'"$/m);
  assert.match(yaml, /^ {6}interval: "30s"\n {6}count: 120\n {6}failureLimit: 0\n {6}inconclusiveLimit: 2$/m);
});
