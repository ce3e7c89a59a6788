/**
 * The live burn rate and the runway (real PostgreSQL): the burn is the sum of the locked rates of
 * the runs the billing tick bills, scoped to one account; the runway is the stored balance over it.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { accounts, instanceRuns } from "../../db/schema";
import { postEntry } from "../../src/billing/ledger";
import type { AccountContext } from "../../src/context";
import { newId } from "../../src/ids";
import { accountRunway } from "../../src/metering/runway";
import { billingTick } from "../../src/metering/tick";
import { freshDatabase } from "../support/db";
import { contextOf, insertInstanceRow, newApiKey, newUser, trpc } from "../support/factories";

const { db } = await freshDatabase();

/** An account (a bare row) with `balance` cents topped up, as its domain context. */
async function newAccount(balance: number): Promise<AccountContext> {
  const accountId = newId("account");
  await db.insert(accounts).values({ id: accountId, name: "runway" });
  if (balance !== 0) await postEntry(db, { accountId, kind: balance > 0 ? "topup" : "adjustment", amountCents: balance, reference: `ref_${accountId}` });
  return { db, accountId, role: "owner", actor: { kind: "system" } };
}

type RunShape = "running" | "pending" | "stopped";

/**
 * An instance of the account with one run at `rate` c/h: running for a minute, never running yet
 * (placed, booting), or stopped (ended, as `endRun` leaves it).
 */
async function newInstance(accountId: string, rate: number, shape: RunShape): Promise<string> {
  const instanceId = newId("instance");
  const runId = newId("run");
  const state = shape === "stopped" ? "stopped" : shape;
  await insertInstanceRow(db, { id: instanceId, accountId, state, rateCentsPerHour: rate, currentRunId: runId });
  await db.insert(instanceRuns).values({
    id: runId,
    instanceId,
    number: 1,
    rateCentsPerHour: rate,
    runningAt: shape === "pending" ? null : sql`now() - interval '60 seconds'`,
    lastHeartbeatAt: shape === "pending" ? null : sql`now()`,
    endedAt: shape === "stopped" ? sql`now()` : null,
    endedBecause: shape === "stopped" ? "stopped" : null,
  });
  return instanceId;
}

const runway = (ctx: AccountContext, minRunwayHours = 1) => accountRunway(ctx, { minRunwayHours });

describe("the live burn rate and the runway", () => {
  test("two running instances at different rates burn their sum; stopped and booting ones burn nothing", async () => {
    const ctx = await newAccount(10_000);
    await newInstance(ctx.accountId, 280, "running");
    await newInstance(ctx.accountId, 130, "running");
    await newInstance(ctx.accountId, 500, "stopped");
    await newInstance(ctx.accountId, 900, "pending");
    expect(await runway(ctx)).toEqual({
      balanceCents: 10_000,
      burnRateCentsPerHour: 410,
      runningInstances: 2,
      runwaySeconds: Math.floor((10_000 * 3600) / 410),
      lowRunway: false,
    });
  });

  test("nothing running: no burn and no runway, whatever the balance", async () => {
    const ctx = await newAccount(2_500);
    await newInstance(ctx.accountId, 280, "stopped");
    expect(await runway(ctx)).toEqual({ balanceCents: 2_500, burnRateCentsPerHour: 0, runningInstances: 0, runwaySeconds: null, lowRunway: false });
    expect(await runway(await newAccount(0))).toMatchObject({ balanceCents: 0, burnRateCentsPerHour: 0, runwaySeconds: null });
  });

  test("low below the minimum runway: €1.00 at €2.80/h lasts 21 min", async () => {
    const ctx = await newAccount(100);
    await newInstance(ctx.accountId, 280, "running");
    expect(await runway(ctx)).toMatchObject({ runwaySeconds: 1285, lowRunway: true });
    expect(await runway(ctx, 0.25)).toMatchObject({ runwaySeconds: 1285, lowRunway: false });
  });

  test("a used-up balance has a runway of zero, and is low", async () => {
    const ctx = await newAccount(-375);
    await newInstance(ctx.accountId, 280, "running");
    expect(await runway(ctx)).toMatchObject({ balanceCents: -375, burnRateCentsPerHour: 280, runwaySeconds: 0, lowRunway: true });
  });

  test("the runway follows the stored balance as the billing tick debits it", async () => {
    const ctx = await newAccount(10_000);
    await newInstance(ctx.accountId, 3600, "running"); // a cent a second: 60 s already run
    await billingTick(db);
    const after = await runway(ctx);
    expect(after.balanceCents).toBeLessThanOrEqual(10_000 - 60);
    expect(after.runwaySeconds).toBe(after.balanceCents);
  });

  test("another account's running instances never count", async () => {
    const mine = await newAccount(5_000);
    const theirs = await newAccount(5_000);
    await newInstance(mine.accountId, 200, "running");
    await newInstance(theirs.accountId, 7_000, "running");
    expect(await runway(mine)).toMatchObject({ burnRateCentsPerHour: 200, runningInstances: 1, runwaySeconds: 90_000 });
  });
});

describe("billing.balance", () => {
  test("gives the caller's burn rate, runway and low-runway flag with the balance and grace", async () => {
    const user = await newUser(db);
    await postEntry(db, { accountId: user.accountId, kind: "topup", amountCents: 896, reference: `cs_${user.accountId}` });
    await newInstance(user.accountId, 280, "running");
    await newInstance(user.accountId, 999, "stopped");
    const balance = await (await trpc(db, user.sessionToken)).billing.balance();
    expect(balance).toMatchObject({
      balanceCents: 896,
      burnRateCentsPerHour: 280,
      runningInstances: 1,
      runwaySeconds: 11_520,
      lowRunway: false,
      minRunwayHours: 1,
      grace: { active: false },
    });
  });

  test("an API key of another account sees that account's runway, not this one's", async () => {
    const owner = await newUser(db);
    const other = await newUser(db);
    await postEntry(db, { accountId: owner.accountId, kind: "topup", amountCents: 100, reference: `cs_${owner.accountId}` });
    await newInstance(owner.accountId, 280, "running");
    const key = await newApiKey(db, other, { scope: "read" });
    expect(await (await trpc(db, key.secret)).billing.balance()).toMatchObject({ balanceCents: 0, burnRateCentsPerHour: 0, runwaySeconds: null });
    const ownersView = await (await trpc(db, owner.sessionToken)).billing.balance();
    expect(ownersView).toMatchObject({ balanceCents: 100, burnRateCentsPerHour: 280, runwaySeconds: 1285, lowRunway: true });
    // The owner's context, as the api resolves it, reads the same.
    expect(await runway(await contextOf(db, owner))).toMatchObject({ runwaySeconds: 1285 });
  });
});
