// A wave's bake: the gates polled on the injected clock for the bake time; the next wave starts only when every
// gate held to the end, a violation stops at once.
import { formatDurationMs } from '../core/duration.js';
import type { Wave } from '../core/wave-plan.js';
import type { ResolvedGates } from '../config/quality-gates.js';
import {
  appendBakePoll,
  createBakeHistory,
  evaluateFleetGates,
  getGateLabel,
  type FleetGateResult,
} from './fleet-gates.js';
import { judgeFleetPoll } from './judge-fleet-poll.js';
import { getActiveHostNames, getHostConfig, saveRunState, type FleetRun } from './fleet-run.js';
import { describeInterrupt } from './activate-wave.js';

export type BakeOutcome =
  | { ok: true; results: FleetGateResult[]; notes: string[]; polls: number }
  | { ok: false; results: FleetGateResult[]; violations: FleetGateResult[]; reason: string; polls: number };

/** The fastest a bake polls; a Prometheus scrape is rarely faster than 1 s. */
export const MIN_BAKE_POLL_MS = 250;

/**
 * How often a bake polls: the monitor's first cadence, but at least four times per bake, so a short test bake is
 * still judged more than once.
 */
export function getBakePollMs(bakeMs: number, firstPollEveryMs: number): number {
  return Math.max(MIN_BAKE_POLL_MS, Math.min(firstPollEveryMs, Math.floor(bakeMs / 4)));
}

/** The windows of a bake's queries: the bake time, or a gate's own window when that is shorter. */
export function getBakeWindows(bakeMs: number, gates: ResolvedGates): { extractionMs: number; p95Ms: number } {
  return {
    extractionMs: Math.min(bakeMs, gates.extractionFailureRate.windowMs),
    p95Ms: Math.min(bakeMs, gates.p95HashTime.windowMs),
  };
}

export async function bakeWave(run: FleetRun, wave: Wave): Promise<BakeOutcome> {
  const { clock } = run;
  const { bakeMs } = run.fleet.plan;
  const gates = run.gates.gates;
  const startMs = clock.now();
  const endMs = startMs + bakeMs;
  const pollMs = getBakePollMs(bakeMs, run.gates.monitor.poll[0].everyMs);
  run.state.wave = {
    number: wave.number,
    phase: 'baking',
    startedAt: new Date(startMs).toISOString(),
    bakeEndsAt: new Date(endMs).toISOString(),
  };
  await saveRunState(run);
  const judged = getActiveHostNames(run);
  await run.steps.record(
    'fleet:bake',
    'started',
    `wave ${wave.number}: ${judged.join(', ')} for ${formatDurationMs(bakeMs)}`,
    {
      wave: wave.number,
      hosts: judged,
    },
  );
  let history = createBakeHistory();
  let results: FleetGateResult[] = [];
  let polls = 0;
  for (;;) {
    const atMs = Math.min(clock.now() + pollMs, endMs);
    try {
      await clock.sleep(atMs - clock.now(), run.o.signal);
    } catch {
      return finishBake(run, wave, {
        ok: false,
        results,
        violations: [],
        reason: describeInterrupt(run.o.signal!),
        polls,
      });
    }
    const hosts = getActiveHostNames(run).map((name) => getHostConfig(run, name));
    const values = await run.signals.measure({
      hosts,
      windows: getBakeWindows(bakeMs, gates),
      timeoutMs: Math.min(5000, Math.max(1000, pollMs)),
    });
    polls += 1;
    history = appendBakePoll(history, values);
    results = evaluateFleetGates(gates, history, values);
    const isFinal = clock.now() >= endMs;
    run.logger.info(`bake poll ${polls} of wave ${wave.number}`, {
      step: 'fleet:bake',
      wave: wave.number,
      gates: results.map((g) => `${getGateLabel(g)}=${g.value}:${g.verdict}`).join(' '),
    });
    const decision = await judgeFleetPoll(run, results, { isFinal, during: 'the bake' });
    results = decision.results;
    if (decision.kind === 'violated')
      return finishBake(run, wave, {
        ok: false,
        results,
        violations: decision.violations,
        reason: decision.reason,
        polls,
      });
    if (decision.kind === 'held') return finishBake(run, wave, { ok: true, results, notes: decision.notes, polls });
  }
}

async function finishBake(run: FleetRun, wave: Wave, outcome: BakeOutcome): Promise<BakeOutcome> {
  const shown = outcome.results
    .filter((r) => r.action === 'rollback')
    .map((r) => `${getGateLabel(r)} ${r.value === null ? '-' : Math.round(r.value * 10) / 10} ${r.verdict}`)
    .join(', ');
  const detail = outcome.ok
    ? `wave ${wave.number} held for ${formatDurationMs(run.fleet.plan.bakeMs)} (${outcome.polls} polls): ${shown}` +
      `${outcome.notes.length ? `; ${outcome.notes.join('; ')}` : ''}`
    : `wave ${wave.number} stopped after ${outcome.polls} poll(s): ${outcome.reason}`;
  await run.steps.record('fleet:bake', outcome.ok ? 'succeeded' : 'failed', detail, {
    wave: wave.number,
    gates: outcome.results,
  });
  if (run.state.wave) run.state.wave.phase = outcome.ok ? 'held' : 'stopped';
  await saveRunState(run);
  return outcome;
}
