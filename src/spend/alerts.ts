import { formatEur } from "../billing/money-format";
import { formatRunway } from "../metering/forecast";
import type { Alert } from "../notifications/notify";
import type { BudgetThreshold } from "./thresholds";

/**
 * The words and facts of every alert, in one place: the bell shows `title` and `body`, the webhook carries
 * `data`. Pure, so each reads as a fixture in tests/unit/spend-alerts.test.ts.
 */

export interface BudgetCrossing {
  budgetId: string;
  /** Null for the account's budget. */
  instance: { id: string; name: string } | null;
  /** The UTC month, `2026-12`. */
  month: string;
  monthlyCents: number;
  spentCents: number;
  threshold: BudgetThreshold;
  /** At 100 %: the instances the crossing stopped (their names). */
  stopped: string[];
  /** Account budgets: whether running instances stop at 100 %. */
  stopRunning: boolean;
}

const monthName = new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });

export function budgetAlert(crossing: BudgetCrossing): Alert {
  const { instance, threshold, monthlyCents, spentCents } = crossing;
  const spent = `${formatEur(spentCents)} of ${formatEur(monthlyCents)} spent in ${monthName.format(new Date(`${crossing.month}-01T00:00:00Z`))}`;
  let consequence = "";
  if (threshold === 100) {
    if (instance) consequence = " It was stopped; it cannot start again this month unless its budget is raised.";
    else {
      consequence = " New launches are refused until next month or a higher budget.";
      if (crossing.stopped.length > 0) consequence += ` Stopped: ${crossing.stopped.join(", ")}.`;
      else if (!crossing.stopRunning) consequence += " Running instances keep running (the budget is set not to stop them).";
    }
  }
  return {
    kind: "budget",
    dedupKey: `budget:${crossing.budgetId}:${crossing.month}:${monthlyCents}:${threshold}`,
    severity: threshold === 100 ? "critical" : threshold === 80 ? "warning" : "info",
    title: `${instance ? `'${instance.name}'` : "The account"} reached ${threshold} % of its monthly budget`,
    body: `${spent}.${consequence}`,
    instanceId: instance?.id ?? null,
    data: {
      scope: instance ? "instance" : "account",
      budget_id: crossing.budgetId,
      month: crossing.month,
      threshold_percent: threshold,
      monthly_budget_cents: monthlyCents,
      spent_cents: spentCents,
      stopped_instance_names: crossing.stopped,
    },
  };
}

/** Runway levels: 1 below 24 h, 2 below 1 h (0 at or above 24 h, or nothing burns). */
export type RunwayLevel = 0 | 1 | 2;

export function runwayLevel(runwaySeconds: number | null): RunwayLevel {
  if (runwaySeconds === null) return 0;
  if (runwaySeconds < 3600) return 2;
  if (runwaySeconds < 24 * 3600) return 1;
  return 0;
}

export function runwayAlert(input: { level: 1 | 2; episode: string; balanceCents: number; burnCentsPerHour: number; runwaySeconds: number }): Alert {
  const below = input.level === 2 ? "1 hour" : "24 hours";
  return {
    kind: "runway",
    dedupKey: `runway:${input.level}:${input.episode}`,
    severity: input.level === 2 ? "critical" : "warning",
    title: `Balance runs out in under ${below}`,
    body:
      `At the current burn of ${formatEur(input.burnCentsPerHour)}/h, your balance of ${formatEur(input.balanceCents)} ` +
      `lasts ${input.runwaySeconds > 0 ? `about ${formatRunway(input.runwaySeconds)}` : "no longer"}. Top up to keep instances running.`,
    data: {
      below_hours: input.level === 2 ? 1 : 24,
      balance_cents: input.balanceCents,
      burn_cents_per_hour: input.burnCentsPerHour,
      runway_seconds: input.runwaySeconds,
    },
  };
}

export function graceAlert(input: { startedAt: Date; endsAt: Date; balanceCents: number; key: string }): Alert {
  return {
    kind: "grace_started",
    dedupKey: `grace:${input.key}`,
    severity: "critical",
    title: "Balance below zero: grace window started",
    body:
      `Your balance is ${formatEur(input.balanceCents)}. New launches are refused, and running instances will be stopped at ` +
      `${input.endsAt.toISOString().replace("T", " ").slice(0, 16)} UTC unless you top up.`,
    data: { balance_cents: input.balanceCents, grace_started_at: input.startedAt.toISOString(), grace_ends_at: input.endsAt.toISOString() },
  };
}

export function refundAlert(input: {
  runId: string;
  instance: { id: string; name: string };
  refundedCents: number;
  endedBecause: string;
  seconds: number;
}): Alert {
  return {
    kind: "refund",
    dedupKey: `refund:${input.runId}`,
    severity: "info",
    title: `Refunded ${formatEur(input.refundedCents)} for '${input.instance.name}'`,
    body: `Its pod ended (${input.endedBecause}) after ${input.seconds} s, within the first minute, so what it was charged came back to your balance.`,
    instanceId: input.instance.id,
    data: { run_id: input.runId, refunded_cents: input.refundedCents, ended_because: input.endedBecause, billed_seconds: input.seconds },
  };
}

export function failureAlert(input: { runId: string; instance: { id: string; name: string }; endedBecause: string; detail: string }): Alert {
  const what: Record<string, string> = {
    failed: "failed",
    lost: "was lost (its pod stopped reporting)",
    reclaimed: "was reclaimed by its provider",
    non_bootstrap: "never became healthy",
    placement_failed: "could not be placed",
  };
  return {
    kind: "instance_failed",
    dedupKey: `failed:${input.runId}`,
    severity: "critical",
    title: `'${input.instance.name}' ${what[input.endedBecause] ?? input.endedBecause}`,
    body: `${input.detail}. Billing for this run stopped when it ended; a failure within the first minute is refunded.`,
    instanceId: input.instance.id,
    data: { run_id: input.runId, ended_because: input.endedBecause, detail: input.detail },
  };
}
