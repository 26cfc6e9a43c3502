// The fault rules panel's state: the rule set as GET /api/rules answers it, and the two changes
// the panel makes (switch a rule on or off, delete it). Replaced whole on each load, never mutated.
import type { RuleView } from '../../../server/rules/model.ts';

export type Rule = RuleView;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new Error('Mailpen is not reachable; is it still running?');
  }
  if (!res.ok) {
    const err = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(err.message ?? `${res.status} ${res.statusText}`);
  }
  return (await res.json()) as T;
}

const rulePath = (id: string): string => `/api/rules/${encodeURIComponent(id)}`;

/** What a rule does, in a few words: "552 5.2.2 mailbox full", "wait 2 s, then 451", "disconnect". */
export function describeAction(rule: Rule): string {
  const wait = rule.delay ? `wait ${rule.delay >= 1000 ? `${rule.delay / 1000} s` : `${rule.delay} ms`}` : '';
  const then = rule.greylist
    ? 'greylist (451 4.7.1 on the first try)'
    : rule.disconnect
      ? 'disconnect'
      : rule.reply
        ? [rule.reply.code, rule.reply.enhanced, rule.reply.text].filter(Boolean).join(' ')
        : 'then answer as usual';
  return wait ? `${wait}, ${then}` : then;
}

/** The counters, as words: "times 1 · after 2 · every 3 · 50 %". */
export function describeCounters(rule: Rule): string {
  return [
    rule.times !== undefined && `times ${rule.times}`,
    rule.after !== undefined && `after ${rule.after}`,
    rule.every !== undefined && `every ${rule.every}`,
    rule.probability !== undefined && `${Math.round(rule.probability * 100)} %`,
  ]
    .filter(Boolean)
    .join(' · ');
}

export class RulesList {
  #rules = $state.raw<Rule[]>([]);
  #error = $state<string | null>(null);
  #loaded = $state(false);

  get rules(): Rule[] {
    return this.#rules;
  }
  get error(): string | null {
    return this.#error;
  }
  get loaded(): boolean {
    return this.#loaded;
  }

  async load(): Promise<void> {
    await this.#try(async () => {
      this.#rules = (await call<{ rules: Rule[] }>('GET', '/api/rules')).rules;
      this.#loaded = true;
    });
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    await this.#try(async () => {
      const updated = await call<Rule>('PATCH', rulePath(id), { enabled });
      this.#rules = this.#rules.map((r) => (r.id === id ? updated : r));
    });
  }

  async remove(id: string): Promise<void> {
    await this.#try(async () => {
      await call('DELETE', rulePath(id));
      this.#rules = this.#rules.filter((r) => r.id !== id);
    });
  }

  async #try(change: () => Promise<void>): Promise<void> {
    try {
      await change();
      this.#error = null;
    } catch (err) {
      this.#error = (err as Error).message;
    }
  }
}
