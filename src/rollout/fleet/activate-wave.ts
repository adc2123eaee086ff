// One wave's hosts updated: service env, stage, activate, at most maxUnavailable + 1 hosts restarting at once; an
// unreachable host counts against maxUnavailable, anything else that fails stops the wave.
import type { Wave } from '../core/wave-plan.js';
import type { HostActivation } from '../target/ssh/host-ops.js';
import {
  countUnreachable,
  getErrorCode,
  getHostConcurrency,
  getHostRecord,
  runHostStep,
  saveRunState,
  setHostPhase,
  isUnreachableCode,
  type FleetRun,
} from './fleet-run.js';
import { runLimited } from './run-limited.js';

export type HostUpdate =
  | { kind: 'active'; host: string }
  | { kind: 'unreachable'; host: string; detail: string }
  | { kind: 'failed'; host: string; detail: string; isHumanNeeded: boolean };

export type WaveActivation =
  { ok: true; updates: HostUpdate[] } | { ok: false; updates: HostUpdate[]; reason: string; isHumanNeeded: boolean };

/** Updates the wave's hosts; stops starting hosts at the first failure or once too many are unreachable. */
export async function activateWave(run: FleetRun, wave: Wave): Promise<WaveActivation> {
  run.state.wave = { number: wave.number, phase: 'activating', startedAt: new Date(run.clock.now()).toISOString() };
  await saveRunState(run);
  const todo = wave.hosts.filter((name) => getHostRecord(run, name).phase !== 'unreachable');
  const skipped = wave.hosts.filter((name) => !todo.includes(name));
  if (skipped.length)
    run.say(`  - wave ${wave.number}: ${skipped.join(', ')} unreachable since preflight: skipped (maxUnavailable)`);
  const isTooManyUnreachable = () => countUnreachable(run) > run.fleet.plan.maxUnavailable;
  let hasFailed = false;
  const ran = await runLimited(
    todo,
    {
      getLimit: () => getHostConcurrency(run),
      shouldStop: () => hasFailed || isTooManyUnreachable() || Boolean(run.o.signal?.aborted),
    },
    async (name) => {
      const update = await updateHost(run, name);
      if (update.kind === 'failed') hasFailed = true;
      return update;
    },
  );
  const updates = ran.map((r) => r.outcome);
  const failed = updates.filter((u): u is Extract<HostUpdate, { kind: 'failed' }> => u.kind === 'failed');
  if (failed.length > 0)
    return {
      ok: false,
      updates,
      reason: failed.map((f) => `${f.host}: ${f.detail}`).join('; '),
      isHumanNeeded: failed.some((f) => f.isHumanNeeded),
    };
  if (isTooManyUnreachable()) {
    const names = run.state.hosts.filter((h) => h.phase === 'unreachable').map((h) => h.name);
    return {
      ok: false,
      updates,
      reason:
        `${names.length} host(s) unreachable (${names.join(', ')}), ` +
        `more than maxUnavailable ${run.fleet.plan.maxUnavailable}`,
      isHumanNeeded: false,
    };
  }
  if (run.o.signal?.aborted)
    return { ok: false, updates, reason: describeInterrupt(run.o.signal), isHumanNeeded: false };
  return { ok: true, updates };
}

/** One host: its service env, the artifact staged and verified, then activated and verified healthy by the host. */
async function updateHost(run: FleetRun, name: string): Promise<HostUpdate> {
  const ops = run.ops.get(name)!;
  const { releaseId } = run.artifact;
  try {
    await setHostPhase(run, name, 'staging');
    const serviceEnv = run.serviceEnv;
    if (Object.keys(serviceEnv).length > 0)
      await runHostStep(
        run,
        'fleet:service-env',
        name,
        () => ops.writeServiceEnv(serviceEnv),
        () => `shared/service.env written (${Object.keys(serviceEnv).join(', ')})`,
      );
    await runHostStep(
      run,
      'fleet:stage',
      name,
      () => ops.stage(run.artifact),
      () => `releases/${releaseId} staged and verified`,
    );
    // From here the new release may become current on the host, even if the answer never comes back.
    await setHostPhase(run, name, 'activating', { isTouched: true });
    // The host's answer for a release it did not activate fails the step (journaled as failed), then is recorded.
    const activation = await runHostStep(
      run,
      'fleet:activate',
      name,
      async () => {
        const answer = await ops.activate(releaseId);
        if (answer.exitCode !== 0 || !answer.isActivated) throw Object.assign(new Error(answer.message), { answer });
        return answer;
      },
      (a) => a.message,
    );
    return await recordActivation(run, name, activation);
  } catch (error) {
    const answer = (error as { answer?: HostActivation }).answer;
    if (answer) return recordActivation(run, name, answer);
    const detail = (error as Error).message;
    if (isUnreachableCode(getErrorCode(error))) {
      const isTouched = getHostRecord(run, name).isTouched;
      const unknown = isTouched ? `; it may have activated ${releaseId} on its own (state unknown)` : '';
      await setHostPhase(run, name, 'unreachable', { detail: `${detail}${unknown}` });
      run.say(`  ! ${name} unreachable: counts against maxUnavailable (${countUnreachable(run)} now)`);
      return { kind: 'unreachable', host: name, detail: `${detail}${unknown}` };
    }
    await setHostPhase(run, name, 'failed', { detail });
    const exitCode = (error as { exitCode?: unknown }).exitCode;
    return { kind: 'failed', host: name, detail, isHumanNeeded: exitCode === 4 };
  }
}

/** The host's own verdict: activated (0), switched itself back to a verified previous release (1), or a human (4). */
async function recordActivation(run: FleetRun, name: string, a: HostActivation): Promise<HostUpdate> {
  const releaseId = a.serving.releaseId;
  if (a.exitCode === 0 && a.isActivated) {
    await setHostPhase(run, name, 'active', { releaseId, detail: a.message });
    return { kind: 'active', host: name };
  }
  if (a.exitCode === 1 && a.switchBack?.ok) {
    await setHostPhase(run, name, 'switched-back', { releaseId, detail: a.message });
    return {
      kind: 'failed',
      host: name,
      detail: `${a.failureReason ?? 'not healthy'}; the host switched back to ${a.switchBack.releaseId}`,
      isHumanNeeded: false,
    };
  }
  await setHostPhase(run, name, 'failed', { releaseId, detail: a.message });
  return { kind: 'failed', host: name, detail: a.message, isHumanNeeded: true };
}

export function describeInterrupt(signal: AbortSignal): string {
  return `interrupted (${(signal.reason as Error | undefined)?.message ?? 'aborted'})`;
}
