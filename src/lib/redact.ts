// The one scrubber for logs, notification bodies, outbox files,
// incidents and errors: no secret ever leaves the process.
const SECRET_VARIABLES = [
  'SLACK_WEBHOOK',
  'TEAMS_WEBHOOK',
  'DISCORD_WEBHOOK',
  'DEPLOY_WEBHOOK',
  'PAGERDUTY_ROUTING_KEY',
  'EMAIL_SMTP_URL',
  'EMAIL_PASS',
];
/** Any variable whose name looks like it holds a credential is treated as secret too. */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|_PASS$|_KEY$|WEBHOOK|CREDENTIAL)/i;
export const REDACTED = '[REDACTED]';

export type Redactor = {
  /** Replaces every known secret (and credentials embedded in URLs) in `text`. */
  (text: string): string;
  /** Deep-copies a JSON-like value with every string redacted. */
  deep<T>(value: T): T;
  /** The number of secret values it knows (for tests). */
  readonly secretCount: number;
};

/** Built from the environment: the secret values themselves, plus generic URL-credential patterns. */
export function createRedactor(processEnv: Record<string, string | undefined>): Redactor {
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(processEnv)) {
    if (!value || value.length < 6) continue;
    // A database URL's password is secret whatever its variable is called (database.urlEnv is the operator's choice):
    // scrubbed by value too, for messages that quote it without the URL around it.
    const dbPassword = /^postgres(ql)?:\/\//i.test(value) ? getUrlPassword(value) : '';
    if (dbPassword.length >= 4) secrets.add(dbPassword);
    if (SECRET_VARIABLES.includes(name) || SECRET_NAME.test(name)) {
      secrets.add(value);
      // DHASH_API_TOKENS lists `name:scope:token` entries: each token alone is as secret as the whole list.
      if (name === 'DHASH_API_TOKENS') {
        for (const entry of value.split(/[\n,]/)) {
          const token = entry.trim().split(':').slice(2).join(':');
          if (token.length >= 6) secrets.add(token);
        }
      }
      // A webhook's path alone (e.g. Slack's /services/T…/B…/xyz) is as secret as the whole URL.
      try {
        const url = new URL(value);
        if (url.pathname.length > 8) secrets.add(url.pathname + url.search);
        if (url.password) secrets.add(decodeURIComponent(url.password));
      } catch {}
    }
  }
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  const redact = ((text: string) => {
    let out = String(text);
    for (const secret of ordered) out = out.split(secret).join(REDACTED);
    // user:password@host in any URL.
    out = out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${REDACTED}@`);
    // Well-known webhook shapes even when the variable was not set in this process.
    out = out.replace(/(hooks\.slack\.com\/services\/)[^\s"']+/gi, `$1${REDACTED}`);
    out = out.replace(/(discord(?:app)?\.com\/api\/webhooks\/)[^\s"']+/gi, `$1${REDACTED}`);
    out = out.replace(/(\.webhook\.office\.com\/)[^\s"']+/gi, `$1${REDACTED}`);
    out = out.replace(/(logic\.azure\.com[^\s"']*[?&]sig=)[^\s"'&]+/gi, `$1${REDACTED}`);
    return out;
  }) as Redactor;
  redact.deep = <T>(value: T): T => {
    if (typeof value === 'string') return redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => redact.deep(v)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact.deep(v)])) as T;
    }
    return value;
  };
  Object.defineProperty(redact, 'secretCount', { get: () => ordered.length });
  return redact;
}

function getUrlPassword(value: string): string {
  try {
    return decodeURIComponent(new URL(value).password);
  } catch {
    return '';
  }
}
