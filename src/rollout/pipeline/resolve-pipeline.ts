// Resolves a pipeline definition into the exact execution order (hooks placed by step name) and prints it.
import { createError } from '../../lib/errors.js';
import type { Hook, PipelineDefinition, Step } from './types.js';

export type ResolvedEntry<C> =
  | { kind: 'step'; name: string; description: string; isRequired: boolean; runsInDryRun: boolean; step: Step<C> }
  | {
      kind: 'hook';
      name: string;
      description: string;
      isRequired: true;
      runsInDryRun: boolean;
      on: 'before' | 'after';
      target: string;
      hook: Hook<C>;
    };

export interface ResolvedPipeline<C> {
  name: string;
  /** Steps and before/after hooks, in the order they run. */
  entries: ResolvedEntry<C>[];
  succeededHooks: Hook<C>[];
  failedHooks: Hook<C>[];
}

/** Places every hook; a duplicate name or a hook aimed at a step that does not exist throws EINVALIDPIPELINE. */
export function resolvePipeline<C>(definition: PipelineDefinition<C>): ResolvedPipeline<C> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const unit of [...definition.steps, ...definition.hooks]) {
    if (seen.has(unit.name)) problems.push(`the name \`${unit.name}\` is used twice`);
    seen.add(unit.name);
    if (!/^[a-z0-9-]+:[a-z0-9-]+$/.test(unit.name))
      problems.push(`the name \`${unit.name}\` is not of the form area:action`);
  }
  const stepNames = new Set(definition.steps.map((s) => s.name));
  for (const hook of definition.hooks) {
    const p = hook.placement;
    if ((p.on === 'before' || p.on === 'after') && !stepNames.has(p.step)) {
      problems.push(
        `the hook \`${hook.name}\` is attached ${p.on} \`${p.step}\`, which is not a step of this pipeline`,
      );
    }
  }
  if (problems.length > 0) throw createError('EINVALIDPIPELINE', { pipeline: definition.name, problems });

  const entries: ResolvedEntry<C>[] = [];
  const hookEntry = (hook: Hook<C>, on: 'before' | 'after', target: string): ResolvedEntry<C> => ({
    kind: 'hook',
    name: hook.name,
    description: hook.description,
    isRequired: true,
    runsInDryRun: hook.runsInDryRun,
    on,
    target,
    hook,
  });
  for (const step of definition.steps) {
    for (const hook of definition.hooks) {
      if (hook.placement.on === 'before' && hook.placement.step === step.name)
        entries.push(hookEntry(hook, 'before', step.name));
    }
    entries.push({
      kind: 'step',
      name: step.name,
      description: step.description,
      isRequired: step.isRequired,
      runsInDryRun: step.runsInDryRun,
      step,
    });
    for (const hook of definition.hooks) {
      if (hook.placement.on === 'after' && hook.placement.step === step.name)
        entries.push(hookEntry(hook, 'after', step.name));
    }
  }
  return {
    name: definition.name,
    entries,
    succeededHooks: definition.hooks.filter((h) => h.placement.on === 'succeeded'),
    failedHooks: definition.hooks.filter((h) => h.placement.on === 'failed'),
  };
}

/** The human listing printed by `dhash pipeline steps`: numbered steps, hooks indented under their step. */
export function formatResolvedPipeline<C>(
  resolved: ResolvedPipeline<C>,
  options: { envName?: string; isDryRun?: boolean } = {},
): string {
  const width = Math.max(
    ...resolved.entries.map((e) => e.name.length),
    ...resolved.failedHooks.map((h) => h.name.length),
    10,
  );
  const flags = (isRequired: boolean, runsInDryRun: boolean) =>
    `[${isRequired ? 'required' : 'optional'}${runsInDryRun ? ', runs in dry-run' : ', skipped in dry-run'}]`;
  const lines = [
    `Pipeline ${resolved.name}${options.envName ? ` for --env ${options.envName}` : ''}` +
      `${options.isDryRun ? ' (dry-run)' : ''}:`,
  ];
  let n = 0;
  for (const entry of resolved.entries) {
    if (entry.kind === 'step') {
      n += 1;
      lines.push(
        `${String(n).padStart(3)}. ${entry.name.padEnd(width)}  ` +
          `${entry.description} ${flags(entry.isRequired, entry.runsInDryRun)}`,
      );
    } else {
      lines.push(
        `     ${entry.on === 'before' ? '↱ before' : '↳ after '} ` +
          `${entry.target}: ${entry.name} — ${entry.description}`,
      );
    }
  }
  const listHooks = (title: string, hooks: Hook<C>[]) => {
    lines.push(`${title}:`);
    if (hooks.length === 0) lines.push('     (none)');
    for (const h of hooks) lines.push(`     - ${h.name.padEnd(width)}  ${h.description}`);
  };
  listHooks('On success', resolved.succeededHooks);
  listHooks('On failure (run before the error is reported; a hook error never replaces it)', resolved.failedHooks);
  return lines.join('\n') + '\n';
}
