// Pure: the Argo Rollouts AnalysisTemplate (YAML) whose web metric reads `dhash gates serve`'s GET /v1/verdict.

/** What the template's metric reads from the body `{"data": VerdictReport}`: Argo binds `result` to `$.data`. */
export const ARGO_JSON_PATH = '{$.data}';
export const ARGO_SUCCESS_CONDITION = 'result.ok == true';
export const ARGO_FAILURE_CONDITION = "result.verdict == 'fail'";

export interface ArgoAnalysisInput {
  envName: string;
  /** The full verdict URL, e.g. http://dhash-gates.dhash.svc:8790/v1/verdict. */
  verdictUrl: string;
  intervalMs: number;
  /** Measurements in one analysis run. */
  count: number;
  /** Failed measurements tolerated before the analysis fails (0: the first `fail` verdict rolls back). */
  failureLimit: number;
  /** Inconclusive measurements tolerated before the analysis is inconclusive (the rollout pauses). */
  inconclusiveLimit: number;
  timeoutSeconds: number;
}

/** A Kubernetes object name: lower-case letters, digits and '-', at most 63 characters. */
export function getAnalysisTemplateName(envName: string): string {
  return `dhash-gates-${envName.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/** Argo reads Go durations: whole seconds are enough for a poll interval. */
export function formatGoDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

/**
 * The YAML, written by hand: every string is a JSON string, which is also a valid YAML double-quoted scalar, so no
 * value (a URL with `:` or `#`, a condition with quotes) can change the document's structure.
 */
export function renderArgoAnalysisTemplate(input: ArgoAnalysisInput): string {
  const q = (text: string) => JSON.stringify(text);
  return [
    `# Written by \`dhash export argo-analysis --env ${input.envName}\`: ` +
      'each measurement is one judgement of the quality gates.',
    '# pass → result.ok is true (success); fail → failureCondition (the rollout aborts and rolls back);',
    '# inconclusive (too few events, metrics unreadable) → neither, so Argo pauses the rollout for a human.',
    'apiVersion: argoproj.io/v1alpha1',
    'kind: AnalysisTemplate',
    'metadata:',
    `  name: ${q(getAnalysisTemplateName(input.envName))}`,
    '  labels:',
    `    app.kubernetes.io/managed-by: ${q('dhash')}`,
    `    dhash.dev/env: ${q(input.envName.slice(0, 63))}`,
    'spec:',
    '  metrics:',
    `    - name: ${q('dhash-gates')}`,
    `      interval: ${q(formatGoDuration(input.intervalMs))}`,
    `      count: ${input.count}`,
    `      failureLimit: ${input.failureLimit}`,
    `      inconclusiveLimit: ${input.inconclusiveLimit}`,
    `      successCondition: ${q(ARGO_SUCCESS_CONDITION)}`,
    `      failureCondition: ${q(ARGO_FAILURE_CONDITION)}`,
    '      provider:',
    '        web:',
    `          url: ${q(input.verdictUrl)}`,
    `          timeoutSeconds: ${input.timeoutSeconds}`,
    `          jsonPath: ${q(ARGO_JSON_PATH)}`,
    '',
  ].join('\n');
}
