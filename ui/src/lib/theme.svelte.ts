// Light or dark: follows the system until the user picks one, and remembers the pick.
// Applied as data-theme on <html>; the CSS does the rest (ui/src/app.css).

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'mailpen.theme';
const ORDER: ThemeChoice[] = ['system', 'light', 'dark'];

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export class Theme {
  #choice = $state<ThemeChoice>(stored());

  constructor() {
    this.#apply();
  }

  get choice(): ThemeChoice {
    return this.#choice;
  }

  /** system -> light -> dark -> system. */
  cycle(): void {
    this.#choice = ORDER[(ORDER.indexOf(this.#choice) + 1) % ORDER.length]!;
    try {
      if (this.#choice === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, this.#choice);
    } catch {
      // Storage can be off (private windows); the choice still holds for this page.
    }
    this.#apply();
  }

  #apply(): void {
    if (this.#choice === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = this.#choice;
  }
}
