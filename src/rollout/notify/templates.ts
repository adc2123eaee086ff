// The one set of templates: title, summary and fields of a notification, plus the plain-text and HTML bodies.
import { formatDurationMs } from '../core/duration.js';
import type { Redactor } from '../../lib/redact.js';
import { EVENT_DEFINITIONS } from './events.js';
import { escapeHtml } from './text-limits.js';
import type { MessageField, NotificationInput, RenderedMessage } from './types.js';

export interface RenderContext {
  env: string;
  id: string;
  idempotencyKey: string;
  createdAtMs: number;
  redact: Redactor;
}

/** `dhash-<env>-<deployId>`, or `dhash-<env>` for notifications outside a deploy: one PagerDuty incident per deploy. */
export function getDedupKey(envName: string, deployId?: string): string {
  return deployId ? `dhash-${envName}-${deployId}` : `dhash-${envName}`;
}

/** Pure: builds the channel-neutral message, every string passed through the redactor. */
export function renderMessage(input: NotificationInput, ctx: RenderContext): RenderedMessage {
  const def = EVENT_DEFINITIONS[input.event];
  const duration = input.durationMs === undefined ? undefined : formatDurationMs(input.durationMs);
  const fields: MessageField[] = [
    { label: 'Environment', value: ctx.env },
    { label: 'Severity', value: def.severity },
  ];
  if (input.release) fields.push({ label: 'Release', value: input.release });
  if (duration) fields.push({ label: 'Duration', value: duration });
  if (input.deployId) fields.push({ label: 'Deploy id', value: input.deployId });
  if (input.gate) {
    fields.push({ label: 'Gate', value: input.gate.name });
    fields.push({ label: 'Observed', value: input.gate.value === null ? 'no data' : String(input.gate.value) });
    fields.push({ label: 'Threshold', value: String(input.gate.threshold) });
    if (input.gate.window) fields.push({ label: 'Window', value: input.gate.window });
    fields.push({ label: 'Verdict', value: input.gate.verdict });
  }
  for (const [label, value] of Object.entries(input.fields ?? {})) fields.push({ label, value: String(value) });
  const summary = input.message?.trim() || def.describe({ env: ctx.env, release: input.release, duration });
  return ctx.redact.deep({
    id: ctx.id,
    idempotencyKey: ctx.idempotencyKey,
    event: input.event,
    severity: def.severity,
    env: ctx.env,
    title: `${def.emoji} dhash ${ctx.env}: ${def.title}`,
    summary,
    fields,
    createdAt: new Date(ctx.createdAtMs).toISOString(),
    ...(input.deployId ? { deployId: input.deployId } : {}),
    ...(input.release ? { release: input.release } : {}),
    ...(input.durationMs !== undefined ? { durationMs: input.durationMs } : {}),
    dedupKey: getDedupKey(ctx.env, input.deployId),
  });
}

/** The footer line every channel shows: where the notification came from and its id. */
export function renderContextLine(m: RenderedMessage): string {
  return `dhash · event ${m.event} · ${m.severity} · ${m.createdAt} · id ${m.id}`;
}

export function renderPlainText(m: RenderedMessage): string {
  const width = Math.max(...m.fields.map((f) => f.label.length));
  return [
    m.title,
    '',
    m.summary,
    '',
    ...m.fields.map((f) => `${(f.label + ':').padEnd(width + 2)}${f.value}`),
    '',
    renderContextLine(m),
    '',
  ].join('\n');
}

export function renderHtml(m: RenderedMessage): string {
  const rows = m.fields
    .map(
      (f) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(f.label)}</th>` +
        `<td>${escapeHtml(f.value)}</td></tr>`,
    )
    .join('');
  return [
    '<!doctype html><html><head><meta charset="utf-8"></head><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(m.title)}</h2>`,
    `<p>${escapeHtml(m.summary)}</p>`,
    `<table>${rows}</table>`,
    `<p style="color:#666;font-size:small">${escapeHtml(renderContextLine(m))}</p>`,
    '</body></html>',
  ].join('\n');
}
