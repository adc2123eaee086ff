// The plan of a manual fleet rollback: each host as it reports itself over ssh, and the release it returns to (what it
// ran before the last rollout, as the controller recorded it; else the host's own previous release).
import type { RollbackStrategyChoice } from '../core/rollback-strategy.js';
import type { FleetHostOps } from '../target/ssh/host-ops.js';
import type { FleetStateFile } from './fleet-state.js';

/** A fleet only applies migrations the release before it runs against, so switching back never touches the data. */
export const MANUAL_FLEET_STRATEGY: RollbackStrategyChoice = {
  strategy: 'switch-back',
  reason:
    'manual rollback: each host switches back to its previous release and the live database is kept ' +
    '(a fleet rollout applies only backward-compatible migrations)',
};

export type ManualHostAction =
  /** Its current release is not its previous one, which is staged there: it is switched back. */
  | 'roll-back'
  /** It already runs its previous release: only its health is verified. */
  | 'already-there'
  /** ssh could not ask it (down, host key refused…): it counts as not rolled back. */
  | 'unreachable'
  /** Neither the controller nor the host recorded a release it ran before. */
  | 'no-previous'
  /** Its previous release is no longer on the host (releases/ pruned): a human must stage it. */
  | 'not-staged';

export interface ManualHostPlan {
  name: string;
  action: ManualHostAction;
  /** What `current` points at on the host now; undefined when unreachable or when nothing is deployed there. */
  currentReleaseId?: string;
  targetReleaseId?: string;
  /**
   * Where the target came from: the last rollout's record of this host; the release that rollout replaced on the
   * other hosts (this host already ran the rollout's release); or the host's own release history.
   */
  targetSource?: 'last rollout' | 'fleet' | 'host';
  detail: string;
}

/** Asks every host at once; never throws for a host (a host that cannot be asked is planned as `unreachable`). */
export async function planManualFleetRollback(
  ops: readonly FleetHostOps[],
  state: FleetStateFile | undefined,
): Promise<ManualHostPlan[]> {
  const fleetPrevious = getFleetPreviousRelease(state);
  return Promise.all(ops.map((o) => planHost(o, state, fleetPrevious)));
}

/**
 * The release the last rollout replaced: what most hosts ran before it, other than the rollout's own release (a host
 * that already ran it, e.g. one a partial rollback left behind, belongs back there too).
 */
export function getFleetPreviousRelease(state: FleetStateFile | undefined): string | undefined {
  const counts = new Map<string, number>();
  for (const h of state?.hosts ?? [])
    if (h.previousReleaseId && h.previousReleaseId !== state!.releaseId)
      counts.set(h.previousReleaseId, (counts.get(h.previousReleaseId) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

async function planHost(
  ops: FleetHostOps,
  state: FleetStateFile | undefined,
  fleetPrevious: string | undefined,
): Promise<ManualHostPlan> {
  const name = ops.host.name;
  let status;
  try {
    status = await ops.status();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = `${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`;
    return { name, action: 'unreachable', detail: `NOT REACHED (${why})` };
  }
  const current = status.currentReleaseId;
  const own = state?.hosts.find((h) => h.name === name)?.previousReleaseId;
  const recorded = own !== undefined && own !== state?.releaseId ? own : undefined;
  const target = recorded ?? fleetPrevious ?? status.previousReleaseId;
  const source = recorded ? 'last rollout' : fleetPrevious ? 'fleet' : 'host';
  const base = { name, ...(current ? { currentReleaseId: current } : {}) };
  if (!target)
    return {
      ...base,
      action: 'no-previous',
      detail: `${current ?? '(nothing deployed)'}: no previous release recorded, on the controller or the host`,
    };
  const planned = { ...base, targetReleaseId: target, targetSource: source } as const;
  if (current === target) return { ...planned, action: 'already-there', detail: `${target}: already its previous` };
  if (!status.releaseIds.includes(target))
    return {
      ...planned,
      action: 'not-staged',
      detail: `${current ?? '(none)'} → ${target}: ${target} is no longer under releases/ on the host`,
    };
  return { ...planned, action: 'roll-back', detail: `${current ?? '(none)'} → ${target}` };
}

const SOURCE_LABELS = {
  'last rollout': 'what it ran before the last rollout',
  fleet: 'what the last rollout replaced on the fleet',
  host: "the host's own previous release",
} as const;

/** One line per host: `web-1  B → A  (previous from the last rollout)`. */
export function formatManualFleetPlan(plan: readonly ManualHostPlan[]): string[] {
  const width = Math.max(...plan.map((p) => p.name.length));
  return plan.map((p) => {
    const source = p.action === 'roll-back' ? `  (${SOURCE_LABELS[p.targetSource!]})` : '';
    const label = {
      'roll-back': 'roll back',
      'already-there': 'verify health only',
      unreachable: 'NOT rolled back',
      'no-previous': 'NOT rolled back',
      'not-staged': 'NOT rolled back',
    }[p.action];
    return `  ${p.name.padEnd(width)}  ${p.detail}: ${label}${source}`;
  });
}
