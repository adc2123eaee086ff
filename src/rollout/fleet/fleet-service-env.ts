// What a fleet rollout writes into each updated host's shared/service.env: the database URL and the API tokens of
// this command's environment, or nothing when every host already has its own.
import type { PreflightCheck } from '../deploy/preflight.js';
import type { FleetHostCheck, FleetPreflightInput } from './fleet-preflight.js';

/** Variables of this command's environment that the services of the fleet get in their service.env. */
export const SERVICE_ENV_PASSED = ['DHASH_API_TOKENS', 'DHASH_PROTECT_PROBES'] as const;

/**
 * The rollout writes each updated host's service.env (database URL and API tokens) when this command has the tokens;
 * otherwise every host must already have one, which is left as it is.
 */
export function getServiceEnv(
  input: FleetPreflightInput,
  hosts: FleetHostCheck[],
): { check: PreflightCheck; vars?: Record<string, string> } {
  const name = 'preflight:service-env';
  const url = input.processEnv[input.fleet.databaseUrlEnv];
  const passed = SERVICE_ENV_PASSED.filter((v) => input.processEnv[v]);
  if (url && input.processEnv.DHASH_API_TOKENS) {
    const vars: Record<string, string> = { DHASH_DATABASE_URL: url };
    for (const v of passed) vars[v] = input.processEnv[v]!;
    return {
      check: { name, ok: true, detail: `each updated host gets DHASH_DATABASE_URL and ${passed.join(', ')}` },
      vars,
    };
  }
  const missing = hosts.filter((h) => h.status && !h.status.serviceEnv.isPresent).map((h) => h.name);
  if (missing.length === 0)
    return { check: { name, ok: true, detail: 'DHASH_API_TOKENS not set here: each host keeps its service.env' } };
  return {
    check: {
      name,
      ok: false,
      exitCode: 2,
      detail:
        `${missing.join(', ')} ha${missing.length === 1 ? 's' : 've'} no shared/service.env and DHASH_API_TOKENS ` +
        `is not set here: set it (and ${input.fleet.databaseUrlEnv}) so the rollout writes one on each host`,
    },
  };
}
