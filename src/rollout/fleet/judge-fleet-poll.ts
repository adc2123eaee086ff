// One poll's gates turned into the rollout's decision, asking ssh about hosts whose health failed: an unreachable
// host counts against maxUnavailable and leaves the judged set, a reachable one that fails its health is the
// release's fault.
import { decideBake, describeFleetGate, type BakeDecision, type FleetGateResult } from './fleet-gates.js';
import { countUnreachable, isUnreachableCode, setHostPhase, type FleetRun } from './fleet-run.js';

export type FleetPollDecision = Exclude<BakeDecision, { kind: 'hosts-unhealthy' }> & {
  /** The results judged, without the hosts found unreachable in this poll. */
  results: FleetGateResult[];
};

export async function judgeFleetPoll(
  run: FleetRun,
  results: FleetGateResult[],
  options: { isFinal: boolean; during: string },
): Promise<FleetPollDecision> {
  const decision = decideBake(results, { isFinal: options.isFinal });
  if (decision.kind !== 'hosts-unhealthy') return { ...decision, results };
  const reachable = await findReachable(run, decision.hosts, options.during);
  if (reachable.length > 0) {
    const violations = decision.violations.filter((v) => reachable.includes(v.host!));
    return {
      kind: 'violated',
      violations,
      reason: `${violations.map(describeFleetGate).join('; ')} (reachable over ssh: the release is unhealthy)`,
      results,
    };
  }
  const { maxUnavailable } = run.fleet.plan;
  if (countUnreachable(run) > maxUnavailable) {
    return {
      kind: 'violated',
      violations: decision.violations,
      reason:
        `${decision.hosts.join(', ')} became unreachable during ${options.during}: ${countUnreachable(run)} host(s) ` +
        `unreachable, more than maxUnavailable ${maxUnavailable}`,
      results,
    };
  }
  // Within maxUnavailable: the unreachable hosts leave the judged set, and the other hosts' gates decide.
  const rest = results.filter((r) => !(r.scope === 'host' && decision.hosts.includes(r.host!)));
  return {
    ...(decideBake(rest, { isFinal: options.isFinal }) as Exclude<BakeDecision, { kind: 'hosts-unhealthy' }>),
    results: rest,
  };
}

/** Of the hosts whose health failed, those ssh still reaches; the others are marked unreachable. */
async function findReachable(run: FleetRun, names: string[], during: string): Promise<string[]> {
  const checked = await Promise.all(
    names.map(async (name) => ({
      name,
      // check() never throws by contract; if it does, the host is not known to be unreachable: judged as unhealthy.
      check: await run.ops
        .get(name)!
        .check()
        .catch((error: Error) => ({ code: undefined, checks: [{ ok: false, detail: error.message }] })),
    })),
  );
  const reachable: string[] = [];
  for (const { name, check } of checked) {
    if (isUnreachableCode(check.code)) {
      const detail = check.checks.find((c) => !c.ok)?.detail ?? 'unreachable';
      await setHostPhase(run, name, 'unreachable', { detail: `during ${during}: ${detail}` });
      run.say(`  ! ${name} unreachable during ${during}: counts against maxUnavailable (${countUnreachable(run)} now)`);
    } else reachable.push(name);
  }
  return reachable;
}
