// The monitor_logs/ record shapes the report and the telemetry summary read (fixed in docs/dev/CONTRACTS.md).

// The poll records are typed once, by the monitor that writes them; the report only adds the summary's reader view.
import type { GateResult, GateVerdict } from '../core/gates.js';
export type { GateVerdict } from '../core/gates.js';
export type { PollRecord } from '../monitor/monitor-log.js';
export type PollGate = GateResult;

export interface MonitorSummary {
  deployId: string;
  env: string;
  releaseId: string;
  startedAt: string;
  endedAt: string;
  windowMs: number;
  outcome: string;
  polls: number;
  gates: Record<
    string,
    {
      threshold: number;
      unit: string;
      worstValue: number | null;
      worstRatio: number | null;
      verdictCounts: Partial<Record<GateVerdict, number>>;
    }
  >;
  violation?: { gate: string; value: number; threshold: number; at: string };
  supersededBy?: string;
  supersedeReason?: string;
  rollback?: {
    startedAt: string;
    finishedAt?: string;
    ok: boolean;
    backupFile?: string;
    incidentId?: string;
    thirdOkHealthAt?: string;
  };
}
