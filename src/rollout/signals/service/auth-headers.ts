// The rollout's bearer token as request headers: every request the toolkit sends to the service carries it when set.

/** `{authorization: 'Bearer …'}` when the environment has a rollout token (DHASH_ROLLOUT_TOKEN), else no headers. */
export function getServiceAuthHeaders(environment: { serviceToken?: string }): Record<string, string> {
  return environment.serviceToken ? { authorization: `Bearer ${environment.serviceToken}` } : {};
}
