// Every host the rollout touched returned to the release it ran before (switch-back on each host, the live database
// kept), a few at a time so the fleet never goes down at once, each verified healthy from the controller.
import type { HealthCheck } from '../checks/health.js';
import type { HostActivation } from '../target/ssh/host-ops.js';
import { FIRST_DEPLOY_REASON } from '../core/rollback-strategy.js';
import { getHostConcurrency, getHostRecord, runHostStep, setHostPhase, type FleetRun } from './fleet-run.js';
import { runLimited } from './run-limited.js';

export interface HostRollback {
  host: string;
  ok: boolean;
  /** The release the host serves afterwards, as verified (or last known). */
  releaseId?: string;
  detail: string;
  checks: HealthCheck[];
}

export interface FleetRollback {
  ok: boolean;
  hosts: HostRollback[];
  /** Hosts a human must look at, with why. */
  failed: HostRollback[];
}

/** Rolls back every touched host; never throws (each host's outcome is reported). */
export async function rollBackFleet(run: FleetRun): Promise<FleetRollback> {
  run.state.status = 'rolling-back';
  const touched = run.state.hosts.filter((h) => h.isTouched).map((h) => h.name);
  if (touched.length === 0) {
    await run.steps.record('fleet:rollback', 'succeeded', 'no host was touched: nothing to roll back');
    return { ok: true, hosts: [], failed: [] };
  }
  await run.steps.record('fleet:rollback', 'started', `${touched.join(', ')} (${run.strategy.strategy})`, {
    hosts: touched,
  });
  const ran = await runLimited(touched, { getLimit: () => getHostConcurrency(run), shouldStop: () => false }, (name) =>
    rollBackHost(run, name),
  );
  const hosts = ran.map((r) => r.outcome);
  const failed = hosts.filter((h) => !h.ok);
  await run.steps.record(
    'fleet:rollback',
    failed.length ? 'failed' : 'succeeded',
    hosts.map((h) => `${h.host}: ${h.detail}`).join('; '),
    { hosts: touched },
  );
  return { ok: failed.length === 0, hosts, failed };
}

async function rollBackHost(run: FleetRun, name: string): Promise<HostRollback> {
  const record = getHostRecord(run, name);
  const previous = record.previousReleaseId;
  if (!previous) {
    // The guard never stops the only release: a half-working first release may still answer some users.
    const detail = `${FIRST_DEPLOY_REASON} on this host; ${run.artifact.releaseId} was left serving: a human must act`;
    await setHostPhase(run, name, 'rollback-failed', { detail });
    await run.steps.record('fleet:rollback-host', 'failed', `${name}: ${detail}`, { host: name, wave: record.wave });
    return { host: name, ok: false, detail, checks: [] };
  }
  await setHostPhase(run, name, 'rolling-back');
  try {
    const answer = await runHostStep(
      run,
      'fleet:rollback-host',
      name,
      async () => {
        const a = await run.ops.get(name)!.rollback(previous);
        if (a.exitCode !== 0 || a.serving.releaseId !== previous || !a.serving.isHealthy)
          throw Object.assign(new Error(`the host could not return to ${previous}: ${a.message}`), { answer: a });
        return a;
      },
      (a) => a.message,
    );
    const health = await runHostStep(
      run,
      'fleet:verify',
      name,
      () => verifyHostHealthy(run, name),
      (h) => `${h.checks.filter((c) => c.ok).length} OK health check(s) from the controller`,
    );
    const detail = `back on ${previous}, verified healthy (${health.checks.length} check(s) from the controller)`;
    await setHostPhase(run, name, 'rolled-back', { releaseId: answer.serving.releaseId, detail });
    return { host: name, ok: true, releaseId: previous, detail, checks: health.checks };
  } catch (error) {
    const answer = (error as { answer?: HostActivation }).answer;
    const health = (error as { health?: { checks: HealthCheck[] } }).health;
    const detail = answer
      ? `${(error as Error).message}: a human must act`
      : `rolling back to ${previous} FAILED (${(error as Error).message}): a human must act`;
    await setHostPhase(run, name, 'rollback-failed', {
      ...(answer?.serving.releaseId ? { releaseId: answer.serving.releaseId } : {}),
      detail,
    });
    return {
      host: name,
      ok: false,
      ...(answer ? { releaseId: answer.serving.releaseId } : {}),
      detail,
      checks: health?.checks ?? [],
    };
  }
}

/**
 * N consecutive OK health checks of the host's service as the rollout reaches it, at the environment's interval and
 * within its health timeout; throws with the checks when they do not come.
 */
export async function verifyHostHealthy(run: FleetRun, name: string): Promise<{ checks: HealthCheck[] }> {
  const { deploy } = run.environment.config;
  const host = run.ops.get(name)!.host;
  const deadlineMs = run.clock.now() + deploy.healthTimeoutMs;
  const checks: HealthCheck[] = [];
  let streak = 0;
  for (;;) {
    const check = await run.signals.checkHealth(host, Math.min(5000, deploy.healthTimeoutMs));
    checks.push(check);
    streak = check.ok ? streak + 1 : 0;
    if (streak >= deploy.healthyChecksRequired) return { checks };
    if (run.clock.now() + deploy.healthCheckIntervalMs > deadlineMs) {
      const last = check.ok ? 'OK' : (check.error ?? `HTTP ${check.status}`);
      throw Object.assign(
        new Error(
          `${streak} of ${deploy.healthyChecksRequired} consecutive OK health checks ` +
            `before the timeout (last: ${last})`,
        ),
        { health: { checks } },
      );
    }
    await run.clock.sleep(deploy.healthCheckIntervalMs);
  }
}
