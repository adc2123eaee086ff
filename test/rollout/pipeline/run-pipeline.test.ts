import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runPipeline } from '../../../src/rollout/pipeline/run-pipeline.js';
import { formatResolvedPipeline, resolvePipeline } from '../../../src/rollout/pipeline/resolve-pipeline.js';
import { createPlainDisplay } from '../../../src/rollout/pipeline/step-display.js';
import {
  createPipelineReport,
  type Hook,
  type PipelineDefinition,
  type Step,
} from '../../../src/rollout/pipeline/types.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { createRedactor } from '../../../src/lib/redact.js';
import { createJsonLogger } from '../../../src/lib/logger.js';
import { isDhashError } from '../../../src/lib/errors.js';

type Ctx = { trail: string[] };

function createHarness() {
  const clock = createManualClock(Date.UTC(2026, 10, 28, 1, 0, 0));
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const logger = createJsonLogger({ clock, redact: createRedactor({}), streams: [sink], component: 'test' });
  let shown = '';
  const display = createPlainDisplay(
    new Writable({
      write(c, _e, cb) {
        shown += String(c);
        cb();
      },
    }),
    clock,
  );
  return { clock, lines, logger, display, shown: () => shown };
}

const step = (
  name: string,
  clock: ReturnType<typeof createManualClock>,
  ms: number,
  extra: Partial<Step<Ctx>> = {},
): Step<Ctx> => ({
  name,
  description: `does ${name}`,
  isRequired: true,
  runsInDryRun: true,
  run: async (ctx) => {
    ctx.trail.push(name);
    await clock.advance(ms);
  },
  ...extra,
});

const hook = (name: string, placement: Hook<Ctx>['placement'], run?: Hook<Ctx>['run']): Hook<Ctx> => ({
  name,
  description: `hook ${name}`,
  placement,
  runsInDryRun: true,
  run: run ?? (async (ctx) => void ctx.trail.push(name)),
});

test('runs steps in order with before/after hooks, then the succeeded hooks, recording each duration', async () => {
  const h = createHarness();
  const def: PipelineDefinition<Ctx> = {
    name: 'demo',
    steps: [step('a:one', h.clock, 100), step('b:two', h.clock, 250)],
    hooks: [
      hook('n:start', { on: 'before', step: 'a:one' }),
      hook('v:check', { on: 'after', step: 'b:two' }),
      hook('n:done', { on: 'succeeded' }),
      hook('n:fail', { on: 'failed' }),
    ],
  };
  const ctx: Ctx = { trail: [] };
  const report = await runPipeline(def, ctx, { clock: h.clock, logger: h.logger, display: h.display });
  assert.deepEqual(ctx.trail, ['n:start', 'a:one', 'b:two', 'v:check', 'n:done']);
  assert.equal(report.status, 'succeeded');
  assert.equal(report.durationMs, 350);
  assert.deepEqual(
    report.records.map((r) => [r.name, r.kind, r.status, r.durationMs]),
    [
      ['n:start', 'hook', 'succeeded', 0],
      ['a:one', 'step', 'succeeded', 100],
      ['b:two', 'step', 'succeeded', 250],
      ['v:check', 'hook', 'succeeded', 0],
      ['n:done', 'hook', 'succeeded', 0],
    ],
  );
  assert.deepEqual(
    h.lines.filter((l) => l.step).map((l) => `${l.msg} ${l.step}`),
    [
      'step started n:start',
      'step succeeded n:start',
      'step started a:one',
      'step succeeded a:one',
      'step started b:two',
      'step succeeded b:two',
      'step started v:check',
      'step succeeded v:check',
      'step started n:done',
      'step succeeded n:done',
    ],
  );
  assert.ok(h.lines.every((l) => l.component === 'test.pipeline' && typeof l.time === 'string'));
  assert.match(h.shown(), /^2026-11-28T01:00:00\.000Z ▶ n:start {2}hook n:start\n/);
  assert.match(h.shown(), /\n2026-11-28T01:00:00\.350Z ✔ b:two {2}done in 250ms\n/);
});

test(`on a failing required step runs every failed hook, then rethrows the original error even when a \
hook throws`, async () => {
  const h = createHarness();
  const original = new Error('disk full');
  const seen: { failedStep?: string; error?: unknown; durationMs: number }[] = [];
  const def: PipelineDefinition<Ctx> = {
    name: 'demo',
    steps: [
      step('a:one', h.clock, 100),
      step('b:two', h.clock, 0, {
        run: async (c) => {
          c.trail.push('b:two');
          await h.clock.advance(40);
          throw original;
        },
      }),
      step('c:three', h.clock, 10),
    ],
    hooks: [
      hook('n:fail', { on: 'failed' }, async (c, info) => {
        c.trail.push('n:fail');
        seen.push(info);
        throw new Error('slack down');
      }),
      hook('i:open', { on: 'failed' }, async (c, info) => {
        c.trail.push('i:open');
        seen.push(info);
      }),
      hook('n:done', { on: 'succeeded' }),
    ],
  };
  const ctx: Ctx = { trail: [] };
  const report = createPipelineReport('demo');
  await assert.rejects(
    runPipeline(def, ctx, { clock: h.clock, logger: h.logger, display: h.display, report }),
    (e) => e === original,
  );
  assert.deepEqual(ctx.trail, ['a:one', 'b:two', 'n:fail', 'i:open']);
  assert.deepEqual(
    seen.map((s) => [s.failedStep, s.error, s.durationMs]),
    [
      ['b:two', original, 140],
      ['b:two', original, 140],
    ],
  );
  assert.equal(report.status, 'failed');
  assert.equal(report.failedStep, 'b:two');
  assert.deepEqual(
    report.records.map((r) => [r.name, r.status, r.detail]),
    [
      ['a:one', 'succeeded', undefined],
      ['b:two', 'failed', 'disk full'],
      ['n:fail', 'failed', 'slack down'],
      ['i:open', 'succeeded', undefined],
    ],
  );
  const hookError = h.lines.find((l) => l.msg === 'hook failed; the original outcome stands');
  assert.deepEqual(hookError?.error, { name: 'Error', message: 'slack down' });
  assert.equal(h.lines.at(-1)?.msg, 'pipeline failed');
  assert.equal(h.lines.at(-1)?.step, 'b:two');
  assert.match(h.shown(), /✖ b:two {2}failed after 40ms: disk full\n/);
  assert.match(h.shown(), /• hook n:fail failed: slack down \(the original outcome stands\)\n/);
});

test('a failing optional step is logged as a warning and the pipeline goes on', async () => {
  const h = createHarness();
  const def: PipelineDefinition<Ctx> = {
    name: 'demo',
    steps: [
      step('a:one', h.clock, 0, {
        isRequired: false,
        run: async () => {
          throw new Error('flaky');
        },
      }),
      step('b:two', h.clock, 5),
    ],
    hooks: [],
  };
  const ctx: Ctx = { trail: [] };
  const report = await runPipeline(def, ctx, { clock: h.clock, logger: h.logger });
  assert.equal(report.status, 'succeeded');
  assert.deepEqual(ctx.trail, ['b:two']);
  assert.equal(h.lines.find((l) => l.level === 'warn')?.msg, 'optional step failed; continuing');
});

test('under dry-run skips the steps that change things and records a step-reported skip with its reason', async () => {
  const h = createHarness();
  const def: PipelineDefinition<Ctx> = {
    name: 'demo',
    steps: [
      step('a:plan', h.clock, 0, {
        run: async () => ({ status: 'skipped', reason: 'first deploy: nothing to back up' }),
      }),
      step('b:apply', h.clock, 0, { runsInDryRun: false }),
      step('c:report', h.clock, 0, { run: async () => ({ status: 'succeeded', summary: 'plan printed' }) }),
    ],
    hooks: [],
  };
  const report = await runPipeline(
    def,
    { trail: [] },
    { clock: h.clock, logger: h.logger, display: h.display, isDryRun: true },
  );
  assert.deepEqual(
    report.records.map((r) => [r.name, r.status, r.detail ?? r.summary]),
    [
      ['a:plan', 'skipped', 'first deploy: nothing to back up'],
      ['b:apply', 'skipped', 'dry-run: this step changes things'],
      ['c:report', 'succeeded', 'plan printed'],
    ],
  );
  assert.match(h.shown(), /↷ b:apply {2}skipped: dry-run: this step changes things\n/);
  assert.match(h.shown(), /✔ c:report {2}done in 0ms — plan printed\n/);
});

test('refuses a hook attached to a step that does not exist, naming it', () => {
  const clock = createManualClock();
  assert.throws(
    () =>
      resolvePipeline<Ctx>({
        name: 'demo',
        steps: [step('a:one', clock, 0)],
        hooks: [hook('n:x', { on: 'after', step: 'a:two' })],
      }),
    (e) =>
      isDhashError(e, 'EINVALIDPIPELINE') &&
      e.exitCode === 2 &&
      e.message === 'The pipeline `demo` is defined wrongly (1 problem).' &&
      e.details.startsWith('  - the hook `n:x` is attached after `a:two`, which is not a step of this pipeline\n'),
  );
});

test('prints the resolved step list with hooks placed under their steps', () => {
  const clock = createManualClock();
  const text = formatResolvedPipeline(
    resolvePipeline<Ctx>({
      name: 'demo',
      steps: [step('a:one', clock, 0), step('b:two', clock, 0, { isRequired: false, runsInDryRun: false })],
      hooks: [hook('n:start', { on: 'before', step: 'a:one' }), hook('n:fail', { on: 'failed' })],
    }),
    { envName: 'local' },
  );
  assert.equal(
    text,
    [
      'Pipeline demo for --env local:',
      '     ↱ before a:one: n:start — hook n:start',
      '  1. a:one       does a:one [required, runs in dry-run]',
      '  2. b:two       does b:two [optional, skipped in dry-run]',
      'On success:',
      '     (none)',
      'On failure (run before the error is reported; a hook error never replaces it):',
      '     - n:fail      hook n:fail',
      '',
    ].join('\n'),
  );
});
