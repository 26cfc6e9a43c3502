// The open message: its JSON from the API, which view of it is shown, and at what preview width.
import { api, type Message } from './api.ts';

export type ReaderView = 'html' | 'text' | 'headers' | 'raw' | 'links' | 'checks';
/** The keys that switch the reader's tabs, in the tabs' order. */
export const VIEW_KEYS: Partial<Record<string, ReaderView>> = { '1': 'html', '2': 'text', '3': 'headers', '4': 'raw', '5': 'links', '6': 'checks' };

export type PreviewWidth = 'phone' | 'tablet' | 'desktop';

export const PREVIEW_WIDTHS: Record<PreviewWidth, { label: string; px: number | null }> = {
  phone: { label: 'Phone', px: 375 },
  tablet: { label: 'Tablet', px: 768 },
  desktop: { label: 'Desktop', px: null },
};

const BLOCK_REMOTE_KEY = 'mailpen.blockRemote';

function storedBlockRemote(): boolean {
  try {
    return localStorage.getItem(BLOCK_REMOTE_KEY) === '1';
  } catch {
    return false;
  }
}

export class Reader {
  #id = $state<string | null>(null);
  #message = $state.raw<Message | null>(null);
  #loading = $state(false);
  #error = $state<string | null>(null);
  #view = $state<ReaderView>('html');
  #width = $state<PreviewWidth>('desktop');
  #raw = $state<string | null>(null);
  #rawError = $state<string | null>(null);
  #links = $state.raw<string[] | null>(null);
  #linksError = $state<string | null>(null);
  #abort: AbortController | null = null;
  /** Remote images, fonts and styles off for every message (remembered), unless let in for one. */
  #blockRemote = $state(storedBlockRemote());
  #remoteAllowedFor = $state<string | null>(null);

  get id(): string | null {
    return this.#id;
  }
  get message(): Message | null {
    return this.#message;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get error(): string | null {
    return this.#error;
  }
  /** The chosen view; HTML falls back to text for a message without HTML, and comes back for the next one. */
  get view(): ReaderView {
    return this.#view === 'html' && this.#message?.html === null ? 'text' : this.#view;
  }
  get width(): PreviewWidth {
    return this.#width;
  }
  get blockRemote(): boolean {
    return this.#blockRemote;
  }
  /** Whether the open message's HTML is shown without remote content (tracking pixels). */
  get remoteBlocked(): boolean {
    return this.#blockRemote && this.#remoteAllowedFor !== this.#id;
  }

  setBlockRemote(block: boolean): void {
    this.#blockRemote = block;
    this.#remoteAllowedFor = null;
    try {
      if (block) localStorage.setItem(BLOCK_REMOTE_KEY, '1');
      else localStorage.removeItem(BLOCK_REMOTE_KEY);
    } catch {
      // Storage can be off (private windows); the choice still holds for this page.
    }
  }

  /** Lets remote content into the open message only; the next message is blocked again. */
  allowRemoteOnce(): void {
    this.#remoteAllowedFor = this.#id;
  }
  get raw(): string | null {
    return this.#raw;
  }
  /** The message's links (GET /api/messages/:id/links), once the Links tab asked for them. */
  get links(): string[] | null {
    return this.#links;
  }
  get linksError(): string | null {
    return this.#linksError;
  }
  get rawError(): string | null {
    return this.#rawError;
  }

  /** Loads the message; resolves with it (null when it is gone or another one was opened meanwhile). */
  async open(id: string): Promise<Message | null> {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    // Each message opens on its body: a tab chosen for one (Source) is not forced on the next.
    if (id !== this.#id) this.#view = 'html';
    this.#id = id;
    this.#loading = true;
    this.#error = null;
    this.#raw = null;
    this.#rawError = null;
    this.#links = null;
    this.#linksError = null;
    try {
      const message = await api.message(id, abort.signal);
      if (abort.signal.aborted) return null;
      this.#message = message;
      if (this.#view === 'raw') void this.#loadRaw();
      if (this.#view === 'links') void this.#loadLinks();
      return message;
    } catch (err) {
      if (abort.signal.aborted) return null;
      this.#message = null;
      this.#error = `Could not open the message: ${(err as Error).message}`;
      return null;
    } finally {
      if (!abort.signal.aborted) this.#loading = false;
    }
  }

  close(): void {
    this.#abort?.abort();
    this.#abort = null;
    this.#id = null;
    this.#message = null;
    this.#loading = false;
    this.#error = null;
  }

  show(view: ReaderView): void {
    this.#view = view;
    if (view === 'raw' && this.#raw === null) void this.#loadRaw();
    if (view === 'links' && this.#links === null) void this.#loadLinks();
  }

  /** Opens the message again if it failed to load (the connection is back). */
  retry(): void {
    if (this.#id !== null && this.#error !== null) void this.open(this.#id);
  }

  setWidth(width: PreviewWidth): void {
    this.#width = width;
  }

  /** Keeps the shown read flag in step with the list. */
  setRead(read: boolean): void {
    if (this.#message && this.#message.read !== read) this.#message = { ...this.#message, read };
  }

  async #loadLinks(): Promise<void> {
    const id = this.#id;
    if (id === null) return;
    try {
      const { links } = await api.links(id);
      if (this.#id === id) this.#links = links;
    } catch (err) {
      if (this.#id === id) this.#linksError = `Could not load the links: ${(err as Error).message}`;
    }
  }

  async #loadRaw(): Promise<void> {
    const id = this.#id;
    if (id === null) return;
    try {
      const raw = await api.raw(id);
      if (this.#id === id) this.#raw = raw;
    } catch (err) {
      if (this.#id === id) this.#rawError = `Could not load the source: ${(err as Error).message}`;
    }
  }
}
