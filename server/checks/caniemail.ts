// caniemail.com's support data, as the npm package `caniemail` (2.0.2) packages it: which HTML and
// CSS features each mail client family and platform renders. MIT licensed (© 2019 HTeuMeuLeu for
// the data, © Avi Goldman and Andrew Powell for the package); kept here as a file so that the
// package's own checker and its dependencies are not installed for the data alone. Loaded only by
// the check worker (server/checks/worker.ts), never by the main thread.
import data from './caniemail-data.json' with { type: 'json' };

export type Support = 'yes' | 'partial' | 'no';

/** One client (a family on a platform) and what it does with a feature, at its latest tested version. */
export interface ClientSupport {
  /** `family.platform`, as caniemail names them: `outlook.windows`, `gmail.android`. */
  client: string;
  /** Display name: "Outlook Windows". */
  name: string;
  version: string;
  support: Support;
  /** The notes caniemail attaches to this result (the reason behind a partial, usually). */
  notes: string[];
}

export interface SupportScore {
  /** Percentages of the clients tested, one decimal; they add up to 100. */
  supported: number;
  partial: number;
  unsupported: number;
}

export interface Feature {
  slug: string;
  title: string;
  description: string;
  category: string;
  url: string;
  support: ClientSupport[];
  score: SupportScore;
}

interface RawFeature {
  slug: string;
  title: string;
  description: string | null;
  url: string;
  category: string;
  stats: Record<string, Record<string, Record<string, string>>>;
  notes_by_num: Record<string, string> | null;
}

interface RawData {
  last_update_date: string;
  nicenames: { family: Record<string, string>; platform: Record<string, string> };
  data: RawFeature[];
}

const raw = data as unknown as RawData;
const SUPPORT: Record<string, Support | undefined> = { y: 'yes', a: 'partial', n: 'no' };

/** When caniemail's data was last updated (its own field). */
export const DATA_UPDATED: string = raw.last_update_date;

export const FEATURES: ReadonlyMap<string, Feature> = new Map(raw.data.map((f) => [f.slug, toFeature(f)]));

function toFeature(f: RawFeature): Feature {
  const support: ClientSupport[] = [];
  for (const [family, platforms] of Object.entries(f.stats)) {
    for (const [platform, versions] of Object.entries(platforms)) {
      // Versions are listed oldest first; the last is what that client does now.
      const entries = Object.entries(versions);
      const latest = entries[entries.length - 1];
      if (!latest) continue;
      const [version, result] = latest;
      const level = SUPPORT[result.trim().charAt(0)];
      // 'u' (untested) says nothing either way and is left out, as on caniemail.com.
      if (!level) continue;
      const notes = [...result.matchAll(/#(\d+)/g)].map((m) => f.notes_by_num?.[m[1]!]).filter((n): n is string => typeof n === 'string');
      support.push({
        client: `${family}.${platform}`,
        name: `${raw.nicenames.family[family] ?? family} ${raw.nicenames.platform[platform] ?? platform}`,
        version,
        support: level,
        notes,
      });
    }
  }
  return {
    slug: f.slug,
    title: f.title,
    description: f.description ?? '',
    category: f.category,
    url: f.url,
    support,
    score: scoreOf(support),
  };
}

function scoreOf(support: ClientSupport[]): SupportScore {
  const total = support.length || 1;
  const share = (level: Support): number => Math.round((support.filter((s) => s.support === level).length / total) * 1000) / 10;
  const partial = share('partial');
  const unsupported = share('no');
  return { supported: support.length === 0 ? 100 : Math.round((100 - partial - unsupported) * 10) / 10, partial, unsupported };
}
