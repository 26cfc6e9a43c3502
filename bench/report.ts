// What a scenario hands back: rows for the printed table and the figures for the JSON file.

export interface Row {
  scenario: string;
  figure: string;
  value: string;
  /** The target for this figure, as written there; '' when it has none. */
  target: string;
  /** Whether the target was met; null when the figure has no target or could not be measured. */
  met: boolean | null;
}

export interface ScenarioResult {
  rows: Row[];
  figures: Record<string, unknown>;
}

export interface RunConfig {
  small: boolean;
  /** Print progress lines to stderr. */
  log: (line: string) => void;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function percentiles(samples: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), n: sorted.length };
}

export const mb = (bytes: number): number => bytes / (1024 * 1024);
export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
