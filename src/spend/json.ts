import type { Budget } from "./budgets";

/** A budget in the snake_case scripts read: `qdz budgets --json` and the REST routes, one shape from either. */
export function budgetJson(budget: Budget) {
  return {
    id: budget.id,
    scope: budget.instanceId === null ? ("account" as const) : ("instance" as const),
    instance_id: budget.instanceId,
    instance_name: budget.instanceName,
    monthly_cents: budget.monthlyCents,
    currency: "eur" as const,
    /** Account budgets: running instances stop at 100 % too. */
    stop_running: budget.stopRunning,
    spent_cents: budget.spentCents,
    percent: budget.percent,
    /** The start of the next UTC month, when the month's spend starts again from zero. */
    resets_at: budget.resetsAt,
  };
}

export type BudgetJson = ReturnType<typeof budgetJson>;
