// The message checks in Mailpit's shapes, for its /api/v1/message/{id}/html-check and /sa-check
// (Mailpit's internal/htmlcheck and internal/spamassassin structs), so a Mailpit client reads
// Mailpen's answers unchanged. The Mailpit compatibility routes (issue 12) call these; they own
// the status codes (Mailpit answers html-check for a message without HTML with an error).
import type { HtmlCheck } from './html.js';
import type { SpamPart } from './index.js';

export interface MailpitHtmlCheck {
  Warnings: MailpitWarning[];
  /** family -> its platforms, as Mailpit lists them for its UI. */
  Platforms: Record<string, string[]>;
  Total: { Tests: number; Nodes: number; Supported: number; Partial: number; Unsupported: number };
}

interface MailpitWarning {
  Slug: string;
  Title: string;
  Description: string;
  URL: string;
  Category: string;
  Tags: string[];
  Keywords: string;
  Results: Array<{ Name: string; Platform: string; Family: string; Version: string; Support: 'yes' | 'no' | 'partial'; NoteNumber: string }>;
  NotesByNumber: Record<string, string>;
  Score: { Found: number; Supported: number; Partial: number; Unsupported: number };
}

export interface MailpitSpamAssassin {
  Error: string;
  IsSpam: boolean;
  Score: number;
  Rules: Array<{ Name: string; Score: number; Description: string }>;
}

export function toMailpitHtmlCheck(check: HtmlCheck): MailpitHtmlCheck {
  const platforms: Record<string, Set<string>> = {};
  const warnings = check.features.map((f): MailpitWarning => {
    // Mailpen keeps a result's notes as text; Mailpit numbers them per feature.
    const numbers = new Map<string, string>();
    const results = f.support.map((s) => {
      const dot = s.client.indexOf('.');
      const family = s.client.slice(0, dot);
      const platform = s.client.slice(dot + 1);
      (platforms[family] ??= new Set()).add(platform);
      let note = '';
      for (const text of s.notes) {
        if (!numbers.has(text)) numbers.set(text, String(numbers.size + 1));
        note ||= numbers.get(text)!;
      }
      return { Name: `${s.name} (${s.version})`, Platform: platform, Family: family, Version: s.version, Support: s.support, NoteNumber: note };
    });
    return {
      Slug: f.slug,
      Title: f.title,
      Description: f.description,
      URL: f.url,
      Category: f.category,
      Tags: [],
      Keywords: '',
      Results: results,
      NotesByNumber: Object.fromEntries([...numbers].map(([text, n]) => [n, text])),
      Score: { Found: f.count, Supported: f.score.supported, Partial: f.score.partial, Unsupported: f.score.unsupported },
    };
  });
  return {
    Warnings: warnings,
    Platforms: Object.fromEntries(Object.entries(platforms).map(([family, set]) => [family, [...set].sort()])),
    Total: { Tests: check.features.length, Nodes: check.nodes, Supported: check.score.supported, Partial: check.score.partial, Unsupported: check.score.unsupported },
  };
}

export function toMailpitSpamAssassin(spam: SpamPart): MailpitSpamAssassin {
  if (spam.status === 'checked') {
    return { Error: '', IsSpam: spam.isSpam, Score: spam.score, Rules: spam.rules.map((r) => ({ Name: r.name, Score: r.score, Description: r.description })) };
  }
  return { Error: spam.status === 'error' ? spam.error : spam.reason, IsSpam: false, Score: 0, Rules: [] };
}
