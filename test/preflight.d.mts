// Types of test/preflight.mjs (plain JavaScript, so that it runs before npm ci has installed anything).
export interface Tool {
  name: string;
  probe: string[];
  packages: string[];
  usedBy: string;
}
export const TOOLS: Tool[];
export const PACKAGES: string[];
export const APT_LINE: string;
