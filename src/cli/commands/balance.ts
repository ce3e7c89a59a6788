import { runwayPhrase } from "../../metering/forecast";
import type { Outputs } from "../client";
import { formatEur } from "../money";
import { formatTime, renderFields } from "../output";

export type BalanceSummary = Outputs["billing"]["balance"];

/** `qdz balance --json`: the balance and its grace window, and the runway at the live burn rate (cents and seconds). */
export function balanceJson(summary: BalanceSummary) {
  const { grace } = summary;
  return {
    balance_cents: summary.balanceCents,
    currency: summary.currency,
    grace: { active: grace.active, started_at: grace.startedAt, ends_at: grace.endsAt },
    burn_rate_cents_per_hour: summary.burnRateCentsPerHour,
    running_instances: summary.runningInstances,
    /** null while nothing runs; 0 once the balance is used up. */
    runway_seconds: summary.runwaySeconds,
    low_runway: summary.lowRunway,
  };
}

export type BalanceJson = ReturnType<typeof balanceJson>;

/** For people: the balance, what burns it per hour, and how long it lasts at that rate. */
export function renderBalance(balance: BalanceJson): string {
  const running = balance.running_instances;
  const burn =
    running === 0 ? "nothing running" : `${formatEur(balance.burn_rate_cents_per_hour)}/h (${running} running ${running === 1 ? "instance" : "instances"})`;
  return renderFields([
    ["Balance", formatEur(balance.balance_cents)],
    ["Burn rate", burn],
    ["Runway", runwayText(balance.runway_seconds)],
  ]);
}

const runwayText = (seconds: number | null) => (seconds === null ? "-" : runwayPhrase(seconds));

/** The warning under the result, on stderr: the grace window once the balance is negative, else a short runway. */
export function balanceWarning(summary: BalanceSummary): string | null {
  if (summary.grace.active) {
    return (
      `warning: your balance is negative, so new launches are paused. Running instances are stopped at ${formatTime(summary.grace.endsAt)} ` +
      "unless you top up to at least €0.00 before then (`qdz topup <eur>`)."
    );
  }
  if (!summary.lowRunway) return null;
  return (
    `warning: at ${formatEur(summary.burnRateCentsPerHour)}/h your balance lasts ${runwayText(summary.runwaySeconds)}, ` +
    `less than the ${summary.minRunwayHours} h a launch needs. Top up before it runs out (\`qdz topup <eur>\`): ` +
    "after that, running instances get a grace window and are then stopped."
  );
}
