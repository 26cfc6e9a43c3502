// Mailpit's (MP_*) and MailHog's (MH_*) environment variables as aliases of Mailpen's, so a compose
// file written for either starts Mailpen with the image name changed and nothing else. Applied to
// the environment before the config is read (server/cli.ts): a Mailpen variable that is set wins
// over its alias. A variable with no Mailpen meaning is named in a warning at start, never
// silently ignored; so is one whose value Mailpen reads differently.
//
// Names and value formats from Mailpit's documentation (docs/configuration/runtime-options) and
// MailHog's docs/CONFIG.md.

type Env = Readonly<Record<string, string | undefined>>;

interface Alias {
  /** The Mailpen variable it sets. */
  target: string;
  /** The value in Mailpen's format; null: the value has no Mailpen meaning (warned, not set). */
  value: (v: string, env: Env) => string | null;
  /** Said at start when the alias is used: what differs. */
  note?: string;
}

const truthy = (v: string): boolean => /^(1|true|yes|on)$/i.test(v.trim());
/** Mailpit's credentials are space-separated user:password pairs; Mailpen's comma-separated. */
const users = (v: string): string | null => {
  const pairs = v.trim().split(/\s+/).filter(Boolean);
  return pairs.length > 0 && pairs.every((p) => p.indexOf(':') > 0) ? pairs.join(',') : null;
};
const same = (v: string): string => v;

const ALIASES: Record<string, Alias> = {
  MP_SMTP_BIND_ADDR: { target: 'MAILPEN_SMTP_ADDR', value: same },
  MP_UI_BIND_ADDR: { target: 'MAILPEN_HTTP_ADDR', value: same },
  MP_MAX_MESSAGES: { target: 'MAILPEN_MAX_MESSAGES', value: same },
  MP_SMTP_MAX_RECIPIENTS: { target: 'MAILPEN_MAX_RECIPIENTS', value: same },
  MP_UI_AUTH: { target: 'MAILPEN_UI_AUTH', value: users },
  // Mailpen's optional mode accepts any credentials and AUTH without TLS, as these ask.
  MP_SMTP_AUTH_ACCEPT_ANY: { target: 'MAILPEN_SMTP_AUTH', value: (v) => (truthy(v) ? 'optional' : null) },
  MP_SMTP_AUTH_ALLOW_INSECURE: { target: 'MAILPEN_SMTP_AUTH', value: (v, env) => (truthy(v) && env.MP_SMTP_AUTH === undefined ? 'optional' : null) },
  MP_SMTP_AUTH: { target: 'MAILPEN_SMTP_USERS', value: users, note: 'Mailpen also needs MAILPEN_SMTP_AUTH=strict to require them; set from this alias' },
  MP_SMTP_TLS_CERT: { target: 'MAILPEN_TLS_CERT', value: (v) => (v.startsWith('sans:') ? null : v) },
  MP_SMTP_TLS_KEY: { target: 'MAILPEN_TLS_KEY', value: (v) => (v.startsWith('sans:') ? null : v) },
  MP_SMTP_REQUIRE_STARTTLS: { target: 'MAILPEN_SMTP_STARTTLS', value: (v) => (truthy(v) ? 'required' : 'on') },
  MP_WEBHOOK_URL: { target: 'MAILPEN_WEBHOOK_URLS', value: same, note: "the POST body is Mailpen's message summary, not Mailpit's" },
  MP_ENABLE_SPAMASSASSIN: { target: 'MAILPEN_SPAMD_ADDR', value: (v) => (/^[^\s:]+:\d{1,5}$/.test(v.trim()) ? v.trim() : null) },
  MP_CHAOS_TRIGGERS: { target: 'MAILPEN_CHAOS_TRIGGERS', value: same },
  // Chaos is always there in Mailpen: /api/v1/chaos sets fault rules (MAILPEN_CHAOS_TRIGGERS at start).
  MP_ENABLE_CHAOS: { target: '', value: () => '' },
  MH_SMTP_BIND_ADDR: { target: 'MAILPEN_SMTP_ADDR', value: same },
  MH_API_BIND_ADDR: { target: 'MAILPEN_HTTP_ADDR', value: same },
  MH_UI_BIND_ADDR: { target: 'MAILPEN_HTTP_ADDR', value: same },
  MH_HOSTNAME: { target: 'MAILPEN_HOSTNAME', value: same },
  MH_STORAGE: { target: '', value: (v) => (v === 'memory' ? '' : null) },
};

/** Why a known variable has no Mailpen meaning: said in its warning. */
const NO_MEANING: Record<string, string> = {
  MP_DATABASE: 'Mailpen keeps mail in memory only',
  MP_SMTP_RELAY_HOST: 'Mailpen never delivers mail',
  MP_SMTP_RELAY_CONFIG: 'Mailpen never delivers mail',
  MP_SMTP_RELAY_ALL: 'Mailpen never delivers mail',
  MP_SMTP_FORWARD_CONFIG: 'Mailpen never delivers mail',
  MP_SMTP_REQUIRE_TLS: 'use MAILPEN_SMTPS_ADDR for an implicit-TLS port',
  MP_ENABLE_PROMETHEUS: 'Mailpen serves /metrics on its HTTP port (MAILPEN_METRICS)',
  MH_STORAGE: 'Mailpen keeps mail in memory only (MH_STORAGE=memory is accepted)',
  MH_OUTGOING_SMTP: 'Mailpen never delivers mail',
  MH_AUTH_FILE: 'use MAILPEN_UI_AUTH (user:password pairs)',
  MH_CORS_ORIGIN: 'use MAILPEN_ALLOWED_ORIGINS',
  MH_MONGO_URI: 'Mailpen keeps mail in memory only',
  MH_MONGO_DB: 'Mailpen keeps mail in memory only',
  MH_MONGO_COLLECTION: 'Mailpen keeps mail in memory only',
  MH_MAILDIR_PATH: 'Mailpen keeps mail in memory only',
  MH_INVITE_JIM: "Mailpen has no Jim (its fault rules are deterministic)",
};

export interface CompatEnv {
  /** The environment with the aliases' Mailpen variables added. */
  env: Record<string, string | undefined>;
  /** One line per alias used with a difference, per alias overridden, and per variable with no Mailpen meaning. */
  warnings: string[];
}

export function applyCompatEnv(source: Env): CompatEnv {
  const env: Record<string, string | undefined> = { ...source };
  const warnings: string[] = [];
  const setBy = new Map<string, string>();
  for (const name of Object.keys(source).sort()) {
    if (!/^(MP|MH)_/.test(name)) continue;
    const raw = source[name]!;
    const alias = ALIASES[name];
    const value = alias?.value(raw, source) ?? null;
    if (!alias || value === null) {
      warnings.push(`${name} is ignored: ${NO_MEANING[name] ?? (alias ? `its value ${JSON.stringify(raw.slice(0, 60))} has no Mailpen equivalent` : 'Mailpen has no such setting')}`);
      continue;
    }
    if (alias.target === '') continue;
    if (source[alias.target] !== undefined) {
      // The same value (the image sets MAILPEN_HTTP_ADDR=0.0.0.0:8025, a compose file MH_API_BIND_ADDR
      // to the same) is no conflict worth a warning.
      if (source[alias.target] !== value) warnings.push(`${name} is ignored: ${alias.target} is set and wins`);
      continue;
    }
    const earlier = setBy.get(alias.target);
    if (earlier !== undefined && env[alias.target] !== value) {
      warnings.push(`${name} is ignored: ${earlier} already set ${alias.target} to another value (Mailpen has one HTTP port for the UI and the API)`);
      continue;
    }
    env[alias.target] = value;
    setBy.set(alias.target, name);
    if (name === 'MP_SMTP_AUTH' && source.MAILPEN_SMTP_AUTH === undefined) env.MAILPEN_SMTP_AUTH = 'strict';
    if (alias.note) warnings.push(`${name} read as ${alias.target}: ${alias.note}`);
  }
  return { env, warnings };
}
