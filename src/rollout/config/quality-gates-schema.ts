// The shape of quality-gates-config.json: monitor window, poll cadence and gates, as defaults plus per-environment
// overrides.
import { z } from 'zod';
import { DURATION_FORM, parseDurationMs } from '../core/duration.js';

/** A human duration string ("30s", "10m", "1h") that parses to a positive number of milliseconds. */
export const durationString = z
  .string()
  .refine((text) => (parseDurationMs(text) ?? 0) > 0, { message: `expected ${DURATION_FORM}, greater than zero` });

const action = z.enum(['rollback', 'alert']);
const percent = z.number().gt(0).max(100);
const minEvents = z.number().int().min(1);

export const pollPhaseSchema = z.strictObject({ every: durationString, for: durationString.optional() });

export const gateSchemas = {
  health: z.strictObject({ maxConsecutiveFailures: z.number().int().min(0), action }),
  extractionFailureRate: z.strictObject({ maxPercent: percent, window: durationString, minEvents, action }),
  p95HashTime: z.strictObject({ maxMs: z.number().positive(), window: durationString, minEvents, action }),
  lowConfidenceQueue: z.strictObject({ maxItems: z.number().int().min(0), action }),
  cpu: z.strictObject({ maxPercent: percent, window: durationString, action }),
  memory: z.strictObject({ maxPercent: percent, action }),
  disk: z.strictObject({ maxPercent: percent, action }),
} as const;
export type GateName = keyof typeof gateSchemas;
export const GATE_NAMES = Object.keys(gateSchemas) as GateName[];

const fullGates = z.strictObject(gateSchemas);
const partialGates = z.strictObject(
  Object.fromEntries(Object.entries(gateSchemas).map(([k, s]) => [k, s.partial().optional()])) as {
    [K in GateName]: z.ZodOptional<ReturnType<(typeof gateSchemas)[K]['partial']>>;
  },
);

/** Every phase but the last needs `for`; the last one runs to the end of the window. */
const checkPhases = (poll: { for?: string }[], ctx: z.RefinementCtx) => {
  poll.forEach((phase, i) => {
    if (i < poll.length - 1 && phase.for === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'for'],
        message: 'every poll phase but the last needs `for` (how long it lasts)',
      });
    }
    if (i === poll.length - 1 && phase.for !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'for'],
        message: 'the last poll phase runs to the end of the window; remove `for`',
      });
    }
  });
};

export const monitorSchema = z.strictObject({
  window: durationString,
  poll: z.array(pollPhaseSchema).min(1).superRefine(checkPhases),
});

export const qualityGatesFileSchema = z.strictObject({
  $schema: z.string().optional(),
  defaults: z.strictObject({ monitor: monitorSchema, gates: fullGates }),
  environments: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, 'environment names are lower-case words'),
      z.strictObject({ monitor: monitorSchema.partial().optional(), gates: partialGates.optional() }),
    )
    .default({}),
});

export type QualityGatesFile = z.output<typeof qualityGatesFileSchema>;
