import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { requireOwner } from "../accounts/owners";
import { recordAudit } from "../audit/record";
import { formatEur } from "../billing/money-format";
import { type AccountContext, withTransaction } from "../context";
import { BudgetReachedError, InvalidInputError } from "../errors";
import { newId } from "../ids";
import { displayName, getInstance } from "../instances/queries";
import type { JobQueue } from "../jobs/queue";
import { foldedThroughSql } from "../usage/fold";
import { percentSpent } from "./thresholds";

export interface Budget {
  id: string;
  /** Null for the account's budget. */
  instanceId: string | null;
  instanceName: string | null;
  monthlyCents: number;
  /** Account budgets: running instances stop at 100 % too. */
  stopRunning: boolean;
  /** Net spend this UTC month (debits less refunds), as the rollups hold it: what the ledger says. */
  spentCents: number;
  /** Whole percent, floored. */
  percent: number;
  /** When the month's spend starts again from zero (the next UTC month). */
  resetsAt: Date;
}

export interface Budgets {
  account: Budget | null;
  instances: Budget[];
}

/** The start of this UTC month on the database clock: one clock for every replica. */
const monthStartSql = sql`date_trunc('month', now(), 'UTC')`;

/**
 * Net spend since the start of this UTC month: the account's (its hours, at most 744 rows), or one instance's
 * (its folded days and the hours since, about 55 rows at most: the watcher reads every instance budget at
 * every tick).
 */
export function monthToDateSql(scope: { accountId: string | SQL } | { instanceId: string | SQL }): SQL {
  return "instanceId" in scope
    ? sql`((select coalesce(sum(u.cost_cents - u.refunded_cents), 0) from instance_usage_daily u
            where u.instance_id = ${scope.instanceId} and u.day >= ${monthStartSql} and u.day < ${foldedThroughSql})
         + (select coalesce(sum(u.cost_cents - u.refunded_cents), 0) from instance_usage_hourly u
            where u.instance_id = ${scope.instanceId} and u.hour >= greatest(${monthStartSql}, ${foldedThroughSql})))`
    : sql`(select coalesce(sum(u.cost_cents - u.refunded_cents), 0) from account_usage_hourly u
           where u.account_id = ${scope.accountId} and u.hour >= ${monthStartSql})`;
}

type BudgetRow = {
  id: string;
  instance_id: string | null;
  instance_name: string | null;
  monthly_cents: string;
  stop_running: boolean;
  spent_cents: string;
  resets_at: Date;
};

function toBudget(row: BudgetRow): Budget {
  const monthlyCents = Number(row.monthly_cents);
  const spentCents = Number(row.spent_cents);
  return {
    id: row.id,
    instanceId: row.instance_id,
    instanceName: row.instance_name,
    monthlyCents,
    stopRunning: row.stop_running,
    spentCents,
    percent: percentSpent(spentCents, monthlyCents),
    resetsAt: new Date(row.resets_at),
  };
}

/** The account's budget and its instances' (deleted instances' budgets went with them), each with this month's spend. */
export async function listBudgets(ctx: AccountContext): Promise<Budgets> {
  const rows = await ctx.db.execute<BudgetRow>(sql`
    select b.id, b.instance_id, coalesce(i.name, i.id) as instance_name, b.monthly_cents::text, b.stop_running,
           (case when b.instance_id is null then ${monthToDateSql({ accountId: sql`b.account_id` })}
             else ${monthToDateSql({ instanceId: sql`b.instance_id` })} end)::text as spent_cents,
           ${monthStartSql} + interval '1 month' as resets_at
    from budgets b left join instances i on i.id = b.instance_id
    where b.account_id = ${ctx.accountId} and (b.instance_id is null or i.deleted_at is null)
    order by b.instance_id nulls first, i.name`);
  const budgets = rows.map(toBudget);
  return { account: budgets.find((b) => b.instanceId === null) ?? null, instances: budgets.filter((b) => b.instanceId !== null) };
}

export interface SetBudgetInput {
  /** Omitted or null: the account's budget. */
  instanceId?: string | null;
  monthlyCents: number;
  /** Account budgets only. */
  stopRunning?: boolean;
}

/**
 * Sets (or changes) a monthly budget. The account's is the owners' to set; an instance's, any member's who
 * may change the instance. A new amount re-arms its alerts: the watcher compares what it announced with it.
 */
export async function setBudget(ctx: AccountContext, input: SetBudgetInput): Promise<Budget> {
  const instanceId = input.instanceId ?? null;
  if (instanceId === null) requireOwner(ctx, "set the account's budget");
  else if (input.stopRunning)
    throw new InvalidInputError("Only the account's budget can stop other instances; an instance's budget stops its own instance.", "stopRunning");
  return withTransaction(ctx.db, async (tx) => {
    if (instanceId !== null) await getInstance({ ...ctx, db: tx }, instanceId);
    const conflict = instanceId === null ? sql`(account_id) where instance_id is null` : sql`(instance_id) where instance_id is not null`;
    const [before] = await tx.execute<{ monthly_cents: string; stop_running: boolean }>(sql`
      select monthly_cents::text, stop_running from budgets where account_id = ${ctx.accountId} and ${budgetScopeSql(instanceId)} for update`);
    await tx.execute(sql`
      insert into budgets (id, account_id, instance_id, monthly_cents, stop_running)
      values (${newId("budget")}, ${ctx.accountId}, ${instanceId}, ${input.monthlyCents}, ${input.stopRunning ?? false})
      on conflict ${conflict} do update set monthly_cents = excluded.monthly_cents, stop_running = excluded.stop_running, updated_at = now()`);
    const found = await listBudgets({ ...ctx, db: tx });
    const budget = (instanceId === null ? found.account : found.instances.find((b) => b.instanceId === instanceId))!;
    await recordAudit(
      { ...ctx, db: tx },
      {
        kind: "budget.set",
        subjectId: instanceId,
        changes: {
          before: before ? { monthlyCents: Number(before.monthly_cents), stopRunning: before.stop_running } : { monthlyCents: null },
          after: { monthlyCents: budget.monthlyCents, stopRunning: budget.stopRunning },
        },
      },
    );
    return budget;
  });
}

/** Sets a budget, then has the watcher look now rather than at its next tick: a budget set below this month's spend acts at once. */
export async function setBudgetAndWatch(ctx: AccountContext, jobs: JobQueue, input: SetBudgetInput): Promise<Budget> {
  const budget = await setBudget(ctx, input);
  await jobs.send("spend.watch", {});
  return budget;
}

/** Removes a budget; removing one that is not set does nothing. */
export async function removeBudget(ctx: AccountContext, input: { instanceId?: string | null }): Promise<void> {
  const instanceId = input.instanceId ?? null;
  if (instanceId === null) requireOwner(ctx, "remove the account's budget");
  else await getInstance(ctx, instanceId);
  await withTransaction(ctx.db, async (tx) => {
    const [removed] = await tx.execute<{ monthly_cents: string; stop_running: boolean }>(sql`
      delete from budgets where account_id = ${ctx.accountId} and ${budgetScopeSql(instanceId)}
      returning monthly_cents::text, stop_running`);
    if (!removed) return;
    const before = { monthlyCents: Number(removed.monthly_cents), stopRunning: removed.stop_running };
    await recordAudit({ ...ctx, db: tx }, { kind: "budget.removed", subjectId: instanceId, changes: { before, after: { monthlyCents: null } } });
  });
}

const budgetScopeSql = (instanceId: string | null) => (instanceId === null ? sql`instance_id is null` : sql`instance_id = ${instanceId}`);

/**
 * Refuses a launch or a start when the month's budget is used up: the account's (any launch) or, for a start,
 * the instance's. The watcher would stop it at its first look otherwise.
 */
export async function assertWithinBudgets(db: Executor, accountId: string, instance?: { id: string; name: string | null }): Promise<void> {
  const rows = await db.execute<{ instance_id: string | null; monthly_cents: string; spent_cents: string }>(sql`
    select b.instance_id, b.monthly_cents::text,
           (case when b.instance_id is null then ${monthToDateSql({ accountId })}
             else ${instance ? monthToDateSql({ instanceId: instance.id }) : sql`0`} end)::text as spent_cents
    from budgets b
    where b.account_id = ${accountId} and (b.instance_id is null or b.instance_id = ${instance?.id ?? null})`);
  for (const row of rows) {
    const monthly = Number(row.monthly_cents);
    const spent = Number(row.spent_cents);
    if (spent < monthly) continue;
    const scope = row.instance_id === null ? "The account's" : `Instance '${displayName(instance!)}''s`;
    throw new BudgetReachedError(
      `${scope} monthly budget of ${formatEur(monthly)} is used up (${formatEur(spent)} spent this month). ` +
        `Raise the budget${row.instance_id === null ? " on the Billing page" : " in the instance's Settings"} or wait for next month.`,
    );
  }
}
