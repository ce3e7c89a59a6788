/**
 * Budgets count spend per UTC calendar month (`date_trunc('month', now(), 'UTC')` on the database clock): the
 * months the usage rollups (UTC hours) add up to exactly, and one month for every member wherever they are.
 */

/** The alert thresholds, in percent of a budget, lowest first. */
export const BUDGET_THRESHOLDS = [50, 80, 100] as const;
export type BudgetThreshold = (typeof BUDGET_THRESHOLDS)[number];

/** Whole percent of the budget spent (floored: 99.9 % is not 100 %). */
export function percentSpent(spentCents: number, budgetCents: number): number {
  return Math.floor((Math.max(spentCents, 0) * 100) / budgetCents);
}

/** The highest threshold reached, 0 below the first. */
export function thresholdReached(spentCents: number, budgetCents: number): BudgetThreshold | 0 {
  const percent = percentSpent(spentCents, budgetCents);
  let reached: BudgetThreshold | 0 = 0;
  for (const threshold of BUDGET_THRESHOLDS) if (percent >= threshold) reached = threshold;
  return reached;
}
