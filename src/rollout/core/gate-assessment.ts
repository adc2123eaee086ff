// Pure judgement over all gates of a poll: the monitor state, the state changes to notify, and the one rollback
// decision.
import type { GateResult } from './gates.js';

export type MonitorState = 'ok' | 'warning' | 'violated';
export type GateLevel = MonitorState;
export type RollbackStatus = 'started' | 'succeeded' | 'failed' | 'blocked';

/**
 * A gate's level: violated only when it can roll back; an alert-only gate firing, a warning or an error is a warning.
 */
export function getGateLevel(gate: GateResult): GateLevel {
  if (gate.verdict === 'violated') return gate.action === 'rollback' ? 'violated' : 'warning';
  if (gate.verdict === 'warning' || gate.verdict === 'error') return 'warning';
  return 'ok';
}

const RANK: Record<GateLevel, number> = { ok: 0, warning: 1, violated: 2 };

export function assessMonitorState(gates: GateResult[]): MonitorState {
  return gates.reduce<MonitorState>(
    (worst, g) => (RANK[getGateLevel(g)] > RANK[worst] ? getGateLevel(g) : worst),
    'ok',
  );
}

export interface GateTransition {
  gate: GateResult;
  from: GateLevel;
  to: GateLevel;
  event: 'gate-warning' | 'gate-violation' | 'gate-recovery';
}

/** The gates whose level changed since the previous poll; worse → warning/violation event, better → recovery. */
export function getGateTransitions(previous: Record<string, GateLevel>, gates: GateResult[]): GateTransition[] {
  const out: GateTransition[] = [];
  for (const gate of gates) {
    const from = previous[gate.name] ?? 'ok';
    const to = getGateLevel(gate);
    if (from === to) continue;
    const event = RANK[to] < RANK[from] ? 'gate-recovery' : to === 'violated' ? 'gate-violation' : 'gate-warning';
    out.push({ gate, from, to, event });
  }
  return out;
}

export interface RollbackDecision {
  shouldRollback: boolean;
  /** The first violated rollback gate (the trigger), when any. */
  trigger?: GateResult;
  violations: GateResult[];
  reason: string;
}

/**
 * Exactly one rollback per deploy: roll back when a rollback gate is violated, unless a rollback was already started
 * (even by a monitor that was killed since) or this is a dry run.
 */
export function decideRollback(
  gates: GateResult[],
  options: { isDryRun: boolean; rollbackStatus?: RollbackStatus },
): RollbackDecision {
  const violations = gates.filter((g) => g.verdict === 'violated' && g.action === 'rollback');
  const trigger = violations[0];
  if (!trigger) return { shouldRollback: false, violations, reason: 'no rollback gate violated' };
  if (options.rollbackStatus)
    return { shouldRollback: false, trigger, violations, reason: `a rollback was already ${options.rollbackStatus}` };
  if (options.isDryRun) return { shouldRollback: false, trigger, violations, reason: 'dry run: would roll back' };
  return { shouldRollback: true, trigger, violations, reason: `${trigger.name} violated` };
}
