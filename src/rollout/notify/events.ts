// The notification events of a deploy, their severity (which decides routing) and their human titles.

export const NOTIFY_EVENTS = [
  'start',
  'success',
  'failure',
  'monitor-start',
  'gate-warning',
  'gate-violation',
  'rollback-start',
  'rollback-success',
  'rollback-failure',
  'monitor-complete',
] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface EventDefinition {
  severity: Severity;
  emoji: string;
  title: string;
  /** The summary used when the caller gives no --message. */
  describe: (c: { env: string; release?: string; duration?: string }) => string;
}

const rel = (release?: string) => (release ? `release ${release}` : 'the release');
const took = (duration?: string) => (duration ? ` in ${duration}` : '');

/**
 * Severity choices: anything that means the service may be broken or a human must act is critical
 * (it pages through PagerDuty). A rollback that succeeded is `warning`, not `info`: the service is
 * serving the previous release again, but the failed release still needs a look; PagerDuty receives
 * a `resolve` for it instead of a new trigger.
 */
export const EVENT_DEFINITIONS: Record<NotifyEventName, EventDefinition> = {
  start: {
    severity: 'info',
    emoji: '🚀',
    title: 'Deploy started',
    describe: (c) => `Deploying ${rel(c.release)} to ${c.env}.`,
  },
  success: {
    severity: 'info',
    emoji: '✅',
    title: 'Deploy succeeded',
    describe: (c) => `${cap(rel(c.release))} is live on ${c.env}${took(c.duration)}.`,
  },
  failure: {
    severity: 'critical',
    emoji: '❌',
    title: 'Deploy failed',
    describe: (c) => `Deploying ${rel(c.release)} to ${c.env} failed${took(c.duration)}.`,
  },
  'monitor-start': {
    severity: 'info',
    emoji: '🔭',
    title: 'Monitoring started',
    describe: (c) => `Watching ${c.env} against its quality gates${c.duration ? ` for ${c.duration}` : ''}.`,
  },
  'gate-warning': {
    severity: 'warning',
    emoji: '⚠️',
    title: 'Quality gate warning',
    describe: (c) => `A quality gate on ${c.env} is close to its threshold or set to alert only.`,
  },
  'gate-violation': {
    severity: 'critical',
    emoji: '🚨',
    title: 'Quality gate violated',
    describe: (c) => `A quality gate on ${c.env} was violated; automatic rollback follows where configured.`,
  },
  'rollback-start': {
    severity: 'critical',
    emoji: '⏪',
    title: 'Rollback started',
    describe: (c) => `Rolling ${c.env} back from ${rel(c.release)}.`,
  },
  'rollback-success': {
    severity: 'warning',
    emoji: '↩️',
    title: 'Rollback succeeded',
    describe: (c) => `${c.env} is serving the previous release again${took(c.duration)}.`,
  },
  'rollback-failure': {
    severity: 'critical',
    emoji: '🆘',
    title: 'Rollback FAILED: a human must act',
    describe: (c) => `Rolling ${c.env} back failed; the service may be down.`,
  },
  'monitor-complete': {
    severity: 'info',
    emoji: '🏁',
    title: 'Monitoring complete',
    describe: (c) => `The monitor window on ${c.env} ended with every gate passing${took(c.duration)}.`,
  },
};

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function isNotifyEventName(value: string): value is NotifyEventName {
  return (NOTIFY_EVENTS as readonly string[]).includes(value);
}

export function getEventSeverity(event: NotifyEventName): Severity {
  return EVENT_DEFINITIONS[event].severity;
}
