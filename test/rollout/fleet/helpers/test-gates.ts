// The gates the fleet unit tests judge with: the repo's production defaults, written out so a change there is seen.
import { resolveQualityGates, type ResolvedQualityGates } from '../../../../src/rollout/config/quality-gates.js';
import { qualityGatesFileSchema } from '../../../../src/rollout/config/quality-gates-schema.js';

/** The production defaults of quality-gates-config.json. */
export function getTestGates(): ResolvedQualityGates {
  return resolveQualityGates(
    qualityGatesFileSchema.parse({
      defaults: {
        monitor: { window: '60m', poll: [{ every: '30s', for: '5m' }, { every: '120s' }] },
        gates: {
          health: { maxConsecutiveFailures: 2, action: 'rollback' },
          extractionFailureRate: { maxPercent: 5, window: '10m', minEvents: 20, action: 'rollback' },
          p95HashTime: { maxMs: 2000, window: '15m', minEvents: 20, action: 'rollback' },
          lowConfidenceQueue: { maxItems: 1000, action: 'rollback' },
          cpu: { maxPercent: 90, window: '5m', action: 'alert' },
          memory: { maxPercent: 90, action: 'alert' },
          disk: { maxPercent: 90, action: 'alert' },
        },
      },
    }),
    'production',
  );
}
