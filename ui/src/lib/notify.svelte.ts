// Desktop notifications for new mail: off until the user turns them on (the browser's permission
// is asked then, on that click, never on load), remembered, and never for mail that arrives
// while the page has focus (the list shows it).
import type { MessageSummary } from './api.ts';
import { shortAddress } from './format.ts';

const KEY = 'mailpen.notify';

function stored(): boolean {
  try {
    return localStorage.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

export class Notifier {
  readonly supported = typeof Notification !== 'undefined';
  #wanted = $state(stored());
  #permission = $state<NotificationPermission>(typeof Notification === 'undefined' ? 'denied' : Notification.permission);

  /** Notifications are on: asked for and allowed. */
  get on(): boolean {
    return this.#wanted && this.#permission === 'granted';
  }
  /** The browser said no: the switch says so instead of doing nothing. */
  get blocked(): boolean {
    return this.#permission === 'denied';
  }

  async toggle(): Promise<void> {
    if (!this.supported) return;
    if (this.on) return this.#store(false);
    if (this.#permission !== 'granted') this.#permission = await Notification.requestPermission();
    this.#store(this.#permission === 'granted');
  }

  /** A message arrived: tell the user if they asked and are looking elsewhere. */
  added(message: MessageSummary, open: (id: string) => void): void {
    if (!this.on || document.hasFocus()) return;
    const note = new Notification(message.subject || '(no subject)', { body: `From ${shortAddress(message.from)}`, tag: message.id });
    note.onclick = () => {
      window.focus();
      open(message.id);
      note.close();
    };
  }

  #store(on: boolean): void {
    this.#wanted = on;
    try {
      if (on) localStorage.setItem(KEY, '1');
      else localStorage.removeItem(KEY);
    } catch {
      // Storage can be off (private windows); the choice still holds for this page.
    }
  }
}
