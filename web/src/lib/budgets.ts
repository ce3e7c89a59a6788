import type { Outputs } from "./trpc";

// The thresholds come from the api's own rules, so the page says what the watcher does.
export { BUDGET_THRESHOLDS } from "../../../src/spend/thresholds";

export type Budget = NonNullable<Outputs["budgets"]["list"]["account"]>;

/** The meter's colour: calm below 80 %, a warning from 80 %, an error once the budget is used up. */
export function budgetTone(percent: number): { progress: string; text: string } {
  if (percent >= 100) return { progress: "progress-error", text: "text-error" };
  if (percent >= 80) return { progress: "progress-warning", text: "text-warning-content" };
  return { progress: "progress-primary", text: "text-base-content/70" };
}

/** `80 %`, as the alerts write it (a no-break space, so the sign never wraps alone). */
export function formatPercent(percent: number): string {
  return `${percent}\u00a0%`;
}
