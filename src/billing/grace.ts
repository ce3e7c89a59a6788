import { eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accountBalances } from "../../db/schema";
import { InsufficientFundsError } from "../errors";

export interface GraceStatus {
  active: boolean;
  startedAt: Date | null;
  /** When running instances get stopped if the balance is still negative. */
  endsAt: Date | null;
}

export interface BalanceSummary {
  balanceCents: number;
  grace: GraceStatus;
}

export async function balanceSummary(db: Executor, accountId: string, graceWindowHours: number): Promise<BalanceSummary> {
  const [row] = await db.select().from(accountBalances).where(eq(accountBalances.accountId, accountId));
  return { balanceCents: row?.balanceCents ?? 0, grace: graceStatus(row?.graceStartedAt ?? null, graceWindowHours) };
}

/** An account's grace state from when its balance went negative (null: it is not negative). */
export function graceStatus(startedAt: Date | null, graceWindowHours: number): GraceStatus {
  return { active: startedAt !== null, startedAt, endsAt: startedAt ? new Date(startedAt.getTime() + graceWindowHours * 3_600_000) : null };
}

export interface LaunchFunding {
  /** The hourly rate of what is being launched, in cents. */
  hourlyRateCents: number;
  minRunwayHours: number;
}

/**
 * The billing rules a launch must pass: no launch while the balance is
 * negative (grace), and the balance must pay for the minimum runway at the
 * launch's rate. Throws a message that says how much to top up.
 */
export function assertLaunchFunded(summary: BalanceSummary, funding: LaunchFunding): void {
  const eur = (cents: number) => `${(cents / 100).toFixed(2)} €`;
  if (summary.grace.active || summary.balanceCents < 0) {
    throw new InsufficientFundsError(
      `Your balance is negative (${eur(summary.balanceCents)}), so new launches are paused. Top up to at least 0.00 € to launch again.`,
    );
  }
  const needed = Math.ceil(funding.hourlyRateCents * funding.minRunwayHours);
  if (summary.balanceCents < needed) {
    throw new InsufficientFundsError(
      `This launch costs ${eur(funding.hourlyRateCents)}/h and needs ${funding.minRunwayHours} h of runway (${eur(needed)}); ` +
        `your balance is ${eur(summary.balanceCents)}. Top up at least ${eur(needed - summary.balanceCents)}.`,
    );
  }
}
