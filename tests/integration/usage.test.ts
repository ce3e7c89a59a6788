import { beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { accounts } from "../../db/schema";
import { createApp } from "../../server/app";
import type { AccountContext } from "../../src/context";
import { NotFoundError } from "../../src/errors";
import { newId } from "../../src/ids";
import { billingTick } from "../../src/metering/tick";
import { accountUsage } from "../../src/usage/account";
import { findUsageDrift } from "../../src/usage/drift";
import { foldUsageDays } from "../../src/usage/fold";
import { instanceUsage } from "../../src/usage/instance";
import type { UsageBucket, UsageRange } from "../../src/usage/types";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { contextOf, insertInstanceRow, newApiKey, newUser, type TestUser, testConfig, trpc } from "../support/factories";
import { debitedFor, meteredRun } from "../support/metering";
import { pastRun, rebuildUsageRollups, unfoldUsageFrom } from "../support/usage";

const database = await freshDatabase();
const { db } = database;

/** Friday 3 April 2026, 12:30 in Berlin (CEST): the 7d range starts on Saturday 28 March, the day before the clocks went forward. */
const NOW = new Date("2026-04-03T10:30:00Z");
const BERLIN = "Europe/Berlin";

/** An account whose history started on 1 January 2026 (the default would be today, after the fixture's "now"). */
async function account(): Promise<{ user: TestUser; ctx: AccountContext }> {
  const user = await newUser(db);
  await db
    .update(accounts)
    .set({ createdAt: new Date("2026-01-01T00:00:00Z") })
    .where(eq(accounts.id, user.accountId));
  return { user, ctx: await contextOf(db, user) };
}

const instance = (accountId: string, createdAt: string, name: string) => insertInstanceRow(db, { accountId, name, createdAt: new Date(createdAt) });

let alice: { user: TestUser; ctx: AccountContext };
let a: string;
let b: string;

/**
 * Alice's history at 3600 c/h (a cent a second) for A and 100 c/h for B, laid out so that hand-computed
 * expectations are short (Berlin days; "+n" is cents and seconds of a tick):
 * - A run 0: Wed 4 Mar 23:59 +100 (outside 30d), Thu 5 Mar 13:00 +4900 (30d's first day).
 * - A run 1: Sat 28 Mar 11:15 CET +600 (the 7d's hourly first day, 11:00), Sun 29 Mar 00:30 CET +300 and 23:30 CEST +100
 *   (the 23-hour day), Mon 30 Mar 00:10 +200, Tue 31 Mar 23:59 +300 (March), Wed 1 Apr 00:00 +100 (April), Fri 3 Apr 12:05 +100 (today).
 * - A run 2: Thu 2 Apr 10:00:40 +40, failed, refunded 40 at 10:01.
 * - B (created Thu 2 Apr 12:00): one tick at 14:00 of 3600 s (100 cents), then 20 more seconds no cent was due for.
 */
beforeAll(async () => {
  alice = await account();
  const id = alice.user.accountId;
  a = await instance(id, "2026-03-01T00:00:00Z", "alpha");
  b = await instance(id, "2026-04-02T10:00:00Z", "beta");
  const t = (at: string, seconds: number) => ({ at, seconds });
  await pastRun(db, {
    accountId: id,
    instanceId: a,
    rate: 3600,
    runningAt: "2026-03-04T22:00:00Z",
    ticks: [t("2026-03-04T22:59:00Z", 100), t("2026-03-05T12:00:00Z", 5000)],
  });
  await pastRun(db, {
    accountId: id,
    instanceId: a,
    rate: 3600,
    runningAt: "2026-03-28T10:05:00Z",
    ticks: [
      t("2026-03-28T10:15:00Z", 600),
      t("2026-03-28T23:30:00Z", 900),
      t("2026-03-29T21:30:00Z", 1000),
      t("2026-03-29T22:10:00Z", 1200),
      t("2026-03-31T21:59:00Z", 1500),
      t("2026-03-31T22:00:00Z", 1600),
      t("2026-04-03T10:05:00Z", 1700),
    ],
  });
  await pastRun(db, {
    accountId: id,
    instanceId: a,
    rate: 3600,
    runningAt: "2026-04-02T08:00:00Z",
    ticks: [t("2026-04-02T08:00:40Z", 40)],
    refundAt: "2026-04-02T08:01:00Z",
  });
  await pastRun(db, { accountId: id, instanceId: b, rate: 100, runningAt: "2026-04-02T11:00:00Z", ticks: [t("2026-04-02T12:00:00Z", 3600)], endSeconds: 3620 });
  await rebuildUsageRollups(database.owner());
});

/** Buckets as [local label, cost, seconds, refunded], zero buckets left out; `partial` marked with "*". */
function nonZero(buckets: UsageBucket[], zone = BERLIN) {
  return buckets
    .filter((bucket) => bucket.costCents || bucket.billableSeconds || bucket.refundedCents)
    .map((bucket) => {
      const start = Temporal.Instant.from(bucket.start).toZonedDateTimeISO(zone);
      const label = bucket.granularity === "day" ? start.toPlainDate().toString() : start.toPlainDateTime().toString().slice(0, 16);
      return [`${label}${bucket.partial ? "*" : ""}`, bucket.costCents, bucket.billableSeconds, bucket.refundedCents];
    });
}

/** The ledger's debits and refunds of `instanceIds` dated in [start, end), read without the rollups. */
async function ledgerIn(instanceIds: string[], start: string, end: string) {
  const [row] = await db.execute<{ cost: string; refunded: string }>(sql`
    select coalesce(-sum(amount_cents) filter (where kind = 'debit'), 0)::text as cost,
           coalesce(sum(amount_cents) filter (where kind = 'refund'), 0)::text as refunded
    from ledger_entries where instance_id in ${instanceIds} and created_at >= ${start}::timestamptz and created_at < ${end}::timestamptz`);
  return { costCents: Number(row!.cost), refundedCents: Number(row!.refunded) };
}

describe("instance usage, against a seeded history (Europe/Berlin, DST inside the 7d range)", () => {
  test("7d: Saturday's hours, then a bucket per day; Sunday is 23 hours long; today is partial", async () => {
    const usage = await instanceUsage(alice.ctx, { instanceId: a, range: "7d", timeZone: BERLIN, now: NOW });
    expect(usage.buckets.filter((bucket) => bucket.granularity === "hour")).toHaveLength(24);
    expect(usage.buckets.filter((bucket) => bucket.granularity === "day")).toHaveLength(6);
    expect(nonZero(usage.buckets)).toEqual([
      ["2026-03-28T11:00", 600, 600, 0],
      ["2026-03-29", 400, 400, 0],
      ["2026-03-30", 200, 200, 0],
      ["2026-03-31", 300, 300, 0],
      ["2026-04-01", 100, 100, 0],
      ["2026-04-02", 40, 40, 40],
      ["2026-04-03*", 100, 100, 0],
    ]);
    const sunday = usage.buckets.find((bucket) => bucket.start === "2026-03-28T23:00:00.000Z")!;
    expect(sunday.end).toBe("2026-03-29T22:00:00.000Z");
    // 1,740 cents over the 7 days the instance existed in: 248.57 → 249.
    expect(usage.cards).toEqual({ monthToDateCents: 240, averageDailyCents: 249, daysCounted: 7, activeSeconds: 1740, refundedCents: 40 });
  });

  test("30d, 90d and 24h, and the cards of each", async () => {
    const of = (range: UsageRange) => instanceUsage(alice.ctx, { instanceId: a, range, timeZone: BERLIN, now: NOW });
    const month = await of("30d");
    expect(month.buckets).toHaveLength(30);
    expect(nonZero(month.buckets)[0]).toEqual(["2026-03-05", 4900, 4900, 0]);
    // Created 1 March: all 30 days count. 6,640 / 30 = 221.33.
    expect(month.cards).toEqual({ monthToDateCents: 240, averageDailyCents: 221, daysCounted: 30, activeSeconds: 6640, refundedCents: 40 });
    const quarter = await of("90d");
    expect(quarter.buckets).toHaveLength(90);
    expect(nonZero(quarter.buckets)[0]).toEqual(["2026-03-04", 100, 100, 0]);
    // 1 March to 3 April: 34 days; 6,740 / 34 = 198.24.
    expect(quarter.cards).toEqual({ monthToDateCents: 240, averageDailyCents: 198, daysCounted: 34, activeSeconds: 6740, refundedCents: 40 });
    const day = await of("24h");
    expect(day.buckets).toHaveLength(24);
    expect(nonZero(day.buckets)).toEqual([["2026-04-03T12:00*", 100, 100, 0]]);
    expect(day.cards).toEqual({ monthToDateCents: 240, averageDailyCents: 100, daysCounted: 1, activeSeconds: 100, refundedCents: 0 });
  });

  test("seconds billed without a cent count as active time: B's 3,620 s for 100 cents, over the 2 days it existed", async () => {
    const usage = await instanceUsage(alice.ctx, { instanceId: b, range: "7d", timeZone: BERLIN, now: NOW });
    expect(nonZero(usage.buckets)).toEqual([["2026-04-02", 100, 3620, 0]]);
    expect(usage.cards).toEqual({ monthToDateCents: 100, averageDailyCents: 50, daysCounted: 2, activeSeconds: 3620, refundedCents: 0 });
  });

  test("every bucket of every range, in Berlin and in Kolkata, equals the ledger's entries dated in it, to the cent", async () => {
    for (const timeZone of [BERLIN, "Asia/Kolkata", "America/Los_Angeles"]) {
      for (const range of ["24h", "7d", "30d", "90d"] as const) {
        const usage = await instanceUsage(alice.ctx, { instanceId: a, range, timeZone, now: NOW });
        for (const bucket of usage.buckets) {
          expect({ costCents: bucket.costCents, refundedCents: bucket.refundedCents }).toEqual(await ledgerIn([a], bucket.start, bucket.end));
        }
        const whole = await ledgerIn([a], usage.buckets[0]!.start, usage.buckets.at(-1)!.end);
        expect(usage.buckets.reduce((sum, bucket) => sum + bucket.costCents, 0)).toBe(whole.costCents);
      }
    }
  });
});

describe("Asia/Kolkata (+05:30): each UTC hour belongs to the local day its start falls in", () => {
  test("a tick at 00:15 on 1 April local (18:45 UTC) counts on 31 March; one at 00:40 on 1 April; the month starts at 00:30", async () => {
    const { user, ctx } = await account();
    const k = await instance(user.accountId, "2026-03-01T00:00:00Z", "kolkata");
    await pastRun(db, {
      accountId: user.accountId,
      instanceId: k,
      rate: 3600,
      runningAt: "2026-03-31T18:40:00Z",
      ticks: [
        { at: "2026-03-31T18:45:00Z", seconds: 50 },
        { at: "2026-03-31T19:10:00Z", seconds: 75 },
      ],
    });
    await rebuildUsageRollups(database.owner());
    const usage = await instanceUsage(ctx, { instanceId: k, range: "7d", timeZone: "Asia/Kolkata", now: NOW });
    expect(nonZero(usage.buckets, "Asia/Kolkata")).toEqual([
      ["2026-03-31", 50, 50, 0],
      ["2026-04-01", 25, 25, 0],
    ]);
    expect(usage.buckets.find((bucket) => bucket.costCents === 25)!.start).toBe("2026-03-31T19:00:00.000Z");
    expect(usage.cards.monthToDateCents).toBe(25);
  });
});

describe("account usage", () => {
  test("bars across the instances, stacked by the top ones; the cards; top instances by cost", async () => {
    const usage = await accountUsage(alice.ctx, { range: "7d", timeZone: BERLIN, now: NOW });
    expect(nonZero(usage.buckets)).toEqual([
      ["2026-03-28T11:00", 600, 600, 0],
      ["2026-03-29", 400, 400, 0],
      ["2026-03-30", 200, 200, 0],
      ["2026-03-31", 300, 300, 0],
      ["2026-04-01", 100, 100, 0],
      ["2026-04-02", 140, 3660, 40],
      ["2026-04-03*", 100, 100, 0],
    ]);
    const april2 = usage.buckets.find((bucket) => bucket.costCents === 140)!;
    expect(april2.byInstance).toEqual([
      { instanceId: a, costCents: 40 },
      { instanceId: b, costCents: 100 },
      { instanceId: null, costCents: 0 },
    ]);
    expect(usage.topInstances).toEqual([
      { instanceId: a, name: "alpha", deleted: false, costCents: 1740, billableSeconds: 1740, refundedCents: 40 },
      { instanceId: b, name: "beta", deleted: false, costCents: 100, billableSeconds: 3620, refundedCents: 0 },
    ]);
    // The account exists since 1 January: 7 days; 1,840 / 7 = 262.86.
    expect(usage.cards).toEqual({ monthToDateCents: 340, averageDailyCents: 263, daysCounted: 7, activeSeconds: 5360, refundedCents: 40 });
    for (const bucket of usage.buckets) {
      expect(bucket.byInstance.reduce((sum, row) => sum + row.costCents, 0)).toBe(bucket.costCents);
      expect({ costCents: bucket.costCents, refundedCents: bucket.refundedCents }).toEqual(await ledgerIn([a, b], bucket.start, bucket.end));
    }
  });

  test("90d: the ranking sums whole UTC days and the ragged hours at both ends, equal to the instances' own usage", async () => {
    for (const timeZone of [BERLIN, "Asia/Kolkata", "Pacific/Chatham"]) {
      const usage = await accountUsage(alice.ctx, { range: "90d", timeZone, now: NOW });
      for (const top of usage.topInstances) {
        const own = await instanceUsage(alice.ctx, { instanceId: top.instanceId, range: "90d", timeZone, now: NOW });
        expect(top.costCents).toBe(own.buckets.reduce((sum, bucket) => sum + bucket.costCents, 0));
        expect(top.billableSeconds).toBe(own.cards.activeSeconds);
      }
      expect(usage.topInstances.map((top) => top.costCents)).toEqual([6740, 100]);
    }
  });

  test("past ten instances, the rest of each bar is one 'other' row; a deleted instance keeps its name and cost", async () => {
    const { user, ctx } = await account();
    const ids: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const id = await instance(user.accountId, "2026-03-01T00:00:00Z", `i${i}`);
      ids.push(id);
      await pastRun(db, {
        accountId: user.accountId,
        instanceId: id,
        rate: 3600,
        runningAt: "2026-04-02T09:00:00Z",
        ticks: [{ at: "2026-04-02T10:00:00Z", seconds: i * 10 }],
      });
    }
    await db.execute(sql`update instances set deleted_at = now() where id = ${ids[11]!}`);
    await rebuildUsageRollups(database.owner());
    const usage = await accountUsage(ctx, { range: "30d", timeZone: BERLIN, now: NOW });
    expect(usage.topInstances.map((top) => top.costCents)).toEqual([120, 110, 100, 90, 80, 70, 60, 50, 40, 30]);
    expect(usage.topInstances[0]).toMatchObject({ instanceId: ids[11], name: "i12", deleted: true });
    const bar = usage.buckets.find((bucket) => bucket.costCents > 0)!;
    expect(bar.costCents).toBe(780);
    expect(bar.byInstance.at(-1)).toEqual({ instanceId: null, costCents: 20 + 10 });
    expect(bar.byInstance).toHaveLength(11);
  });
});

describe("scoping", () => {
  test("another account's instance answers as a missing one; its usage stays out of the caller's account", async () => {
    const bob = await account();
    await expect(instanceUsage(bob.ctx, { instanceId: a, range: "30d", timeZone: BERLIN, now: NOW })).rejects.toThrow(new NotFoundError("Instance", a));
    await expect(instanceUsage(bob.ctx, { instanceId: newId("instance"), range: "30d", timeZone: BERLIN, now: NOW })).rejects.toBeInstanceOf(NotFoundError);
    const usage = await accountUsage(bob.ctx, { range: "90d", timeZone: BERLIN, now: NOW });
    expect(usage.topInstances).toEqual([]);
    expect(usage.buckets.every((bucket) => bucket.costCents === 0 && bucket.byInstance.length === 1)).toBe(true);
  });

  test("a bad zone or range is refused naming the field", async () => {
    await expect(instanceUsage(alice.ctx, { instanceId: a, range: "30d", timeZone: "Mars/Olympus" })).rejects.toThrow("is not an IANA time zone");
    const api = await trpc(db, alice.user.sessionToken);
    const error = await expectTrpcError(api.usage.account({ range: "30d", timeZone: "+05:30" }), "BAD_REQUEST");
    expect(error.message).toStartWith("'+05:30' is not an IANA time zone");
    expect((await expectTrpcError(api.usage.account({ range: "1y" as never, timeZone: BERLIN }), "BAD_REQUEST")).message).toStartWith("Range must be one of");
  });
});

describe("tRPC and REST", () => {
  test("usage.instance and usage.account: a read key may call them, an inference key may not; another account's id is NOT_FOUND", async () => {
    const read = await trpc(db, (await newApiKey(db, alice.user, { scope: "read" })).secret);
    expect((await read.usage.instance({ instanceId: a, range: "24h", timeZone: BERLIN })).instanceId).toBe(a);
    expect((await read.usage.account({ range: "90d", timeZone: BERLIN })).buckets).toHaveLength(90);
    const inference = await trpc(db, (await newApiKey(db, alice.user, { scope: "inference" })).secret);
    expect((await expectTrpcError(inference.usage.account({ range: "30d", timeZone: BERLIN }), "FORBIDDEN")).message).toContain("'read'");
    const stranger = await trpc(db, (await newUser(db)).sessionToken);
    expect((await expectTrpcError(stranger.usage.instance({ instanceId: a, range: "30d", timeZone: BERLIN }), "NOT_FOUND")).message).toBe(
      `Instance '${a}' was not found.`,
    );
  });

  test("GET /billing/usage: the account or one instance in snake_case; errors name the parameter", async () => {
    const app = createApp({ db, config: testConfig });
    const key = (await newApiKey(db, alice.user, { scope: "read" })).secret;
    const get = (query: string, token: string | null = key) =>
      app.handle(new Request(`http://localhost:3000/billing/usage${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }));

    // The seeded history is older than 90 days by the real clock: a run billed now.
    const live = await meteredRun(db, alice.user.accountId, 3600, 125);
    await billingTick(db);
    const account = await (await get("?range=90d&time_zone=Europe/Berlin")).json();
    expect(account).toMatchObject({ range: "90d", time_zone: "Europe/Berlin" });
    expect(account.buckets).toHaveLength(90);
    expect(account.top_instances.map((top: any) => [top.instance_id, top.cost_cents])).toEqual([[live.instanceId, await debitedFor(db, live.runId)]]);
    expect(account.buckets.at(-1)).toMatchObject({ partial: true, cost_cents: await debitedFor(db, live.runId) });
    expect(Object.keys(account.cards).sort()).toEqual(["active_seconds", "average_daily_cents", "days_counted", "month_to_date_cents", "refunded_cents"]);
    expect(Object.keys(account.buckets[0]).sort()).toEqual([
      "billable_seconds",
      "by_instance",
      "cost_cents",
      "end",
      "granularity",
      "partial",
      "refunded_cents",
      "start",
    ]);

    const one = await (await get(`?instance_id=${a}`)).json();
    expect(one).toMatchObject({ instance_id: a, range: "30d", time_zone: "UTC" });
    expect(one.buckets).toHaveLength(30);

    for (const [query, field, status] of [
      ["?time_zone=Mars/Olympus", "time_zone", 400],
      ["?range=1y", "range", 400],
    ] as const) {
      const response = await get(query);
      expect(response.status).toBe(status);
      const { error } = await response.json();
      expect(error).toMatchObject({ code: "invalid_input", field, request_id: response.headers.get("x-request-id") });
    }
    const foreign = await get(`?instance_id=${a}`, (await newApiKey(db, await newUser(db), { scope: "read" })).secret);
    expect(foreign.status).toBe(404);
    expect((await get("", null)).status).toBe(401);
    const inference = await get("", (await newApiKey(db, alice.user, { scope: "inference" })).secret);
    expect(inference.status).toBe(403);
    expect((await inference.json()).error.message).toContain("'read'");
  });
});

describe("the daily fold", () => {
  const views = async () => ({
    account: await Promise.all((["24h", "7d", "30d", "90d"] as const).map((range) => accountUsage(alice.ctx, { range, timeZone: BERLIN, now: NOW }))),
    instance: await instanceUsage(alice.ctx, { instanceId: a, range: "90d", timeZone: "UTC", now: NOW }),
  });
  const folded = async () => {
    const [row] = await db.execute<{ at: string; days: number }>(sql`
      select (select folded_through from usage_daily_fold)::text as at,
             (select count(*)::integer from instance_usage_daily where account_id = ${alice.user.accountId}) as days`);
    return row!;
  };

  test("the usage pages read the same before any day is folded, while the days fold, and after", async () => {
    const settled = await views();
    await unfoldUsageFrom(database.owner(), "2026-03-01T00:00:00Z");
    expect(await folded()).toMatchObject({ days: 0 });
    expect(await views()).toEqual(settled);

    // Part of the history: the mark stops at the day's start, mid-range.
    const first = await foldUsageDays(db, { maxDays: 30 });
    expect(first).toMatchObject({ foldedThrough: "2026-03-31T00:00:00Z", days: 30 });
    expect(await views()).toEqual(settled);

    const rest = await foldUsageDays(db, { maxDays: 1000 });
    expect(rest.days).toBeGreaterThan(200);
    expect(await views()).toEqual(settled);
    expect(await findUsageDrift(db)).toEqual([]);
    // Only days with usage have rows (UTC days): A's 4, 5, 28, 29, 31 March and 2 and 3 April, B's 2 April.
    expect((await folded()).days).toBe(8);
  });

  test("a day folds an hour after it ends, by the database clock, and folding it again changes nothing", async () => {
    await unfoldUsageFrom(database.owner(), "2026-04-02T00:00:00Z");
    const daily = () => db.execute(sql`select * from instance_usage_daily where account_id = ${alice.user.accountId} order by instance_id, day`);
    const before = await daily();
    expect(await foldUsageDays(db, { now: new Date("2026-04-03T00:59:59Z") })).toMatchObject({ foldedThrough: "2026-04-02T00:00:00Z", days: 0 });
    const once = await foldUsageDays(db, { now: new Date("2026-04-03T01:00:00Z") });
    expect(once).toMatchObject({ foldedThrough: "2026-04-03T00:00:00Z", days: 1 });
    const rows = await daily();
    expect(rows.length).toBe(before.length + 2);

    await db.execute(sql`update usage_daily_fold set folded_through = '2026-04-02T00:00:00Z'`);
    expect(await foldUsageDays(db, { now: new Date("2026-04-03T01:00:00Z") })).toEqual(once);
    expect(await daily()).toEqual(rows);
  });

  test("three workers folding at once fold each day once", async () => {
    const settled = await views();
    await unfoldUsageFrom(database.owner(), "2026-03-01T00:00:00Z");
    const reports = await Promise.all([1, 2, 3].map(() => foldUsageDays(db, { maxDays: 1000 })));
    const span = (Date.parse((await folded()).at) - Date.parse("2026-03-01T00:00:00Z")) / 86_400_000;
    expect(span).toBeGreaterThan(200);
    expect(reports.reduce((days, report) => days + report.days, 0)).toBe(span);
    expect(await views()).toEqual(settled);
    expect(await findUsageDrift(db)).toEqual([]);
  });
});

test("after all of it, the rollups agree with the ledger and the runs", async () => {
  expect(await findUsageDrift(db)).toEqual([]);
});
