// The monitor_logs/ record shapes the report and the telemetry summary read (fixed in docs/dev/CONTRACTS.md).

export type GateVerdict = 'pass' | 'warning' | 'violated' | 'insufficient-data' | 'error';

export interface PollGate {
  name: string;
  value: number | null;
  threshold: number;
  unit: string;
  windowMs?: number;
  verdict: GateVerdict;
  action: 'rollback' | 'alert';
  detail?: string;
}

export interface PollRecord {
  time: string;
  deployId: string;
  env: string;
  releaseId: string;
  pollIndex: number;
  elapsedMs: number;
  signals: {
    health: { ok: boolean; httpStatus?: number; latencyMs: number; error?: string };
    extraction?: { attempts: number; failures: number };
    hashP95Ms?: number;
    queueLength?: number;
    cpuPercent?: number;
    memoryPercent?: number;
    diskPercent?: number;
  };
  gates: PollGate[];
  state: 'ok' | 'warning' | 'violated';
  actions?: string[];
}

export interface MonitorSummary {
  deployId: string;
  env: string;
  releaseId: string;
  startedAt: string;
  endedAt: string;
  windowMs: number;
  outcome: string;
  polls: number;
  gates: Record<string, { threshold: number; unit: string; worstValue: number | null; worstRatio: number | null; verdictCounts: Partial<Record<GateVerdict, number>> }>;
  violation?: { gate: string; value: number; threshold: number; at: string };
  rollback?: { startedAt: string; finishedAt?: string; ok: boolean; backupFile?: string; incidentId?: string; thirdOkHealthAt?: string };
}
