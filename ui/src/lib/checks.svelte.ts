// The checks of the open message (GET /api/messages/:id/checks): loaded when the Checks tab is
// shown, once per message (the server caches them too), dropped for the next message.
import { api, type Checks } from './api.ts';

export type CheckFinding = Extract<NonNullable<Checks['lint']>, { status: 'checked' }>['findings'][number];
export type FindingPlace = NonNullable<CheckFinding['where']>;

export class MessageChecks {
  #id = $state<string | null>(null);
  #result = $state.raw<Checks | null>(null);
  #error = $state<string | null>(null);
  #abort: AbortController | null = null;

  get result(): Checks | null {
    return this.#result;
  }
  get error(): string | null {
    return this.#error;
  }
  get loading(): boolean {
    return this.#id !== null && this.#result === null && this.#error === null;
  }

  /** Loads the checks of message `id` unless they are those already shown. */
  async load(id: string): Promise<void> {
    if (this.#id === id && this.#error === null) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.#id = id;
    this.#result = null;
    this.#error = null;
    try {
      const result = await api.checks(id, abort.signal);
      if (!abort.signal.aborted) this.#result = result;
    } catch (err) {
      if (!abort.signal.aborted) this.#error = `could not check the message: ${(err as Error).message}`;
    }
  }
}
