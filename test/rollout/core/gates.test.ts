import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateFailureRateGate,
  evaluateHealthGate,
  evaluateP95Gate,
  evaluateValueGate,
} from '../../../src/rollout/core/gates.js';
import { assessMonitorState, decideRollback, getGateTransitions } from '../../../src/rollout/core/gate-assessment.js';

const rate = {
  name: 'extractionFailureRate',
  maxPercent: 5,
  minEvents: 20,
  windowMs: 600_000,
  action: 'rollback' as const,
};
const p95 = { name: 'p95HashTime', maxMs: 2000, minEvents: 20, windowMs: 900_000, action: 'rollback' as const };
const health = { name: 'health', maxConsecutiveFailures: 2, action: 'rollback' as const };
const queue = { name: 'lowConfidenceQueue', action: 'rollback' as const };

test('health: 2 consecutive failures are fine (warning), the 3rd violates; moving the limit moves the boundary', () => {
  assert.equal(evaluateHealthGate(health, 0).verdict, 'pass');
  assert.equal(evaluateHealthGate(health, 1).verdict, 'pass');
  assert.equal(evaluateHealthGate(health, 2).verdict, 'warning');
  assert.equal(evaluateHealthGate(health, 3).verdict, 'violated');
  assert.equal(evaluateHealthGate({ ...health, maxConsecutiveFailures: 3 }, 3).verdict, 'warning');
  assert.equal(evaluateHealthGate({ ...health, maxConsecutiveFailures: 3 }, 4).verdict, 'violated');
});

test('failure rate: 5.0 % passes, 5.01 % violates, above 4 % warns; limit 6 % makes 5.01 % a warning', () => {
  assert.equal(evaluateFailureRateGate(rate, { attempts: 100, failures: 5 }).verdict, 'warning');
  assert.equal(evaluateFailureRateGate(rate, { attempts: 10_000, failures: 501 }).verdict, 'violated');
  assert.equal(evaluateFailureRateGate(rate, { attempts: 10_000, failures: 500 }).verdict, 'warning');
  assert.equal(evaluateFailureRateGate(rate, { attempts: 10_000, failures: 400 }).verdict, 'pass');
  assert.equal(evaluateFailureRateGate(rate, { attempts: 10_000, failures: 401 }).verdict, 'warning');
  assert.equal(
    evaluateFailureRateGate({ ...rate, maxPercent: 6 }, { attempts: 10_000, failures: 501 }).verdict,
    'warning',
  );
  assert.deepEqual(evaluateFailureRateGate(rate, { attempts: 20, failures: 1 }), {
    name: 'extractionFailureRate',
    value: 5,
    threshold: 5,
    unit: '%',
    windowMs: 600_000,
    verdict: 'warning',
    action: 'rollback',
    detail: '1/20 failed',
  });
});

test('failure rate: fewer than minEvents attempts is insufficient data, neither pass nor violation', () => {
  const r = evaluateFailureRateGate(rate, { attempts: 19, failures: 19 });
  assert.equal(r.verdict, 'insufficient-data');
  assert.equal(r.detail, '19 attempts in window, 20 needed');
  assert.equal(evaluateFailureRateGate(rate, { attempts: 20, failures: 19 }).verdict, 'violated');
  assert.equal(
    evaluateFailureRateGate({ ...rate, minEvents: 21 }, { attempts: 20, failures: 19 }).verdict,
    'insufficient-data',
  );
  assert.equal(evaluateFailureRateGate(rate, undefined).verdict, 'error');
});

test('p95: exactly 2000 ms passes, above violates; same minEvents rule', () => {
  assert.equal(evaluateP95Gate(p95, { p95Ms: 2000, count: 20 }).verdict, 'warning');
  assert.equal(evaluateP95Gate(p95, { p95Ms: 2000.001, count: 20 }).verdict, 'violated');
  assert.equal(evaluateP95Gate(p95, { p95Ms: 1600, count: 20 }).verdict, 'pass');
  assert.equal(evaluateP95Gate({ ...p95, maxMs: 2500 }, { p95Ms: 2000.001, count: 20 }).verdict, 'warning');
  assert.equal(evaluateP95Gate({ ...p95, maxMs: 2500 }, { p95Ms: 2500, count: 20 }).verdict, 'warning');
  assert.equal(evaluateP95Gate(p95, { p95Ms: 9000, count: 19 }).verdict, 'insufficient-data');
});

test('queue: 1000 passes, 1001 violates', () => {
  assert.equal(evaluateValueGate(queue, 'items', 1000, 1000).verdict, 'warning');
  assert.equal(evaluateValueGate(queue, 'items', 1000, 1001).verdict, 'violated');
  assert.equal(evaluateValueGate(queue, 'items', 1000, 800).verdict, 'pass');
  assert.equal(evaluateValueGate(queue, 'items', 1001, 1001).verdict, 'warning');
  assert.equal(evaluateValueGate(queue, 'items', 1000, undefined).verdict, 'error');
});

test('state: an alert-only gate firing is a warning, a rollback gate violated is violated', () => {
  const cpu = evaluateValueGate({ name: 'cpu', action: 'alert' }, '%', 90, 95);
  assert.equal(cpu.verdict, 'violated');
  assert.equal(assessMonitorState([cpu]), 'warning');
  assert.equal(assessMonitorState([cpu, evaluateHealthGate(health, 3)]), 'violated');
  assert.equal(assessMonitorState([evaluateHealthGate(health, 0)]), 'ok');
  assert.equal(decideRollback([cpu], { isDryRun: false }).shouldRollback, false);
});

test('transitions: ok → warning → violated, and recovery', () => {
  const t1 = getGateTransitions({}, [evaluateHealthGate(health, 2)]);
  assert.deepEqual(
    t1.map((t) => [t.from, t.to, t.event]),
    [['ok', 'warning', 'gate-warning']],
  );
  const t2 = getGateTransitions({ health: 'warning' }, [evaluateHealthGate(health, 3)]);
  assert.deepEqual(
    t2.map((t) => [t.from, t.to, t.event]),
    [['warning', 'violated', 'gate-violation']],
  );
  const t3 = getGateTransitions({ health: 'warning' }, [evaluateHealthGate(health, 0)]);
  assert.deepEqual(
    t3.map((t) => [t.from, t.to, t.event]),
    [['warning', 'ok', 'gate-recovery']],
  );
  assert.deepEqual(getGateTransitions({ health: 'ok' }, [evaluateHealthGate(health, 1)]), []);
});

test('exactly one rollback however many gates fire', () => {
  const all = [
    evaluateHealthGate(health, 3),
    evaluateValueGate(queue, 'items', 1000, 5000),
    evaluateFailureRateGate(rate, { attempts: 100, failures: 50 }),
  ];
  const d = decideRollback(all, { isDryRun: false });
  assert.equal(d.shouldRollback, true);
  assert.equal(d.trigger?.name, 'health');
  assert.equal(d.violations.length, 3);
  assert.equal(decideRollback(all, { isDryRun: false, rollbackStatus: 'started' }).shouldRollback, false);
  assert.equal(decideRollback(all, { isDryRun: true }).shouldRollback, false);
});
