import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { accountBalances, ledgerEntries } from "../../db/schema";
import { findBalanceDrift, type LedgerKind, listLedger, postEntry } from "../../src/billing/ledger";
import { freshDatabase } from "../support/db";
import { rejectionMessages } from "../support/errors";
import { newUser } from "../support/factories";

const database = await freshDatabase();
const { db } = database;

describe("append-only", () => {
  // The app role may not even try (database-roles.test.ts); the trigger holds for the owner, who may.
  test("the database refuses to update, delete or truncate ledger entries, even for the table's owner", async () => {
    const { accountId } = await newUser(db);
    const { entry } = await postEntry(db, { accountId, kind: "topup", amountCents: 1000, reference: "cs_append_only" });
    const owner = database.owner().db;
    const update = owner.update(ledgerEntries).set({ amountCents: 999_999 }).where(eq(ledgerEntries.id, entry.id));
    expect(await rejectionMessages(update)).toContain("ledger_entries is append-only: UPDATE is not allowed");
    expect(await rejectionMessages(owner.delete(ledgerEntries).where(eq(ledgerEntries.id, entry.id)))).toContain("append-only: DELETE");
    expect(await rejectionMessages(owner.execute(sql`truncate ledger_entries`))).toContain("append-only: TRUNCATE");
    const [row] = await db.select().from(ledgerEntries).where(eq(ledgerEntries.id, entry.id));
    expect(row!.amountCents).toBe(1000);
  });

  test("signs are enforced by the database: debits subtract, top-ups and refunds add", async () => {
    const { accountId } = await newUser(db);
    for (const [kind, amountCents] of [
      ["debit", 5],
      ["topup", -5],
      ["refund", -5],
    ] as const) {
      expect(await rejectionMessages(postEntry(db, { accountId, kind, amountCents, reference: `bad-sign-${kind}` }))).toContain("ledger_entries_sign_check");
    }
    expect(await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, accountId))).toEqual([]);
  });

  test("a zero or fractional amount is refused before reaching the database", async () => {
    const { accountId } = await newUser(db);
    await expect(postEntry(db, { accountId, kind: "adjustment", amountCents: 0, reference: "zero" })).rejects.toThrow("non-zero whole number");
    await expect(postEntry(db, { accountId, kind: "topup", amountCents: 1.5, reference: "half" })).rejects.toThrow("non-zero whole number");
  });
});

describe("idempotent references", () => {
  test("posting a reference again returns the first entry and changes nothing", async () => {
    const { accountId } = await newUser(db);
    const first = await postEntry(db, { accountId, kind: "topup", amountCents: 5000, reference: "cs_once" });
    const again = await postEntry(db, { accountId, kind: "topup", amountCents: 5000, reference: "cs_once" });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.entry.id).toBe(first.entry.id);
    expect(again.balanceCents).toBe(5000);
  });

  test("fifty concurrent posts of one reference land once", async () => {
    const { accountId } = await newUser(db);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => postEntry(db, { accountId, kind: "debit", amountCents: -7, reference: "debit:inst_x:0001" })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.id)).size).toBe(1);
    const rows = await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, accountId));
    expect(rows).toHaveLength(1);
    expect((await db.select().from(accountBalances).where(eq(accountBalances.accountId, accountId)))[0]!.balanceCents).toBe(-7);
  });

  test("references are per account: two accounts may use the same one", async () => {
    const a = await newUser(db);
    const b = await newUser(db);
    expect((await postEntry(db, { accountId: a.accountId, kind: "topup", amountCents: 100, reference: "shared" })).created).toBe(true);
    expect((await postEntry(db, { accountId: b.accountId, kind: "topup", amountCents: 100, reference: "shared" })).created).toBe(true);
  });
});

describe("balance equals the sum of entries (property)", () => {
  const kinds: LedgerKind[] = ["topup", "debit", "refund", "adjustment"];
  const operation = fc.record({
    account: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom(...kinds),
    magnitude: fc.integer({ min: 1, max: 100_000 }),
    negativeAdjustment: fc.boolean(),
    /** Several operations share a reference number: they are retries of one posting. */
    reference: fc.integer({ min: 0, max: 15 }),
  });

  test("random concurrent top-ups, debits, refunds, adjustments and duplicates never drift", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (operations) => {
        const accounts = await Promise.all([0, 1, 2].map(() => newUser(db)));
        // A retry repeats the first posting of its reference exactly, as a retried job would.
        const firstByReference = new Map<string, (typeof operations)[number]>();
        const postings = operations.map((op) => {
          const key = `${op.account}:${op.reference}`;
          const canonical = firstByReference.get(key) ?? op;
          firstByReference.set(key, canonical);
          const sign = canonical.kind === "debit" || (canonical.kind === "adjustment" && canonical.negativeAdjustment) ? -1 : 1;
          return {
            accountId: accounts[canonical.account]!.accountId,
            kind: canonical.kind,
            amountCents: sign * canonical.magnitude,
            reference: `ref-${canonical.reference}`,
          };
        });
        await Promise.all(postings.map((posting) => postEntry(db, posting)));

        expect(await findBalanceDrift(db)).toEqual([]);
        for (const [index, account] of accounts.entries()) {
          const expected = [...firstByReference.entries()]
            .filter(([key]) => key.startsWith(`${index}:`))
            .map(([, op]) => (op.kind === "debit" || (op.kind === "adjustment" && op.negativeAdjustment) ? -1 : 1) * op.magnitude)
            .reduce((sum, cents) => sum + cents, 0);
          const rows = await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, account.accountId));
          expect(rows.length).toBe(new Set(rows.map((row) => row.reference)).size);
          const [stored] = await db.select().from(accountBalances).where(eq(accountBalances.accountId, account.accountId));
          expect(stored?.balanceCents ?? 0).toBe(expected);
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  test("the drift check finds a stored balance that disagrees with the entries", async () => {
    const { accountId } = await newUser(db);
    await postEntry(db, { accountId, kind: "topup", amountCents: 100, reference: "drift" });
    await db.update(accountBalances).set({ balanceCents: 101 }).where(eq(accountBalances.accountId, accountId));
    expect(await findBalanceDrift(db)).toEqual([{ accountId, storedCents: 101, sumCents: 100 }]);
    await db.update(accountBalances).set({ balanceCents: 100 }).where(eq(accountBalances.accountId, accountId));
  });
});

describe("grace", () => {
  test("starts when the balance goes below zero, keeps its start, and ends at zero or above", async () => {
    const { accountId } = await newUser(db);
    const grace = async () => (await db.select().from(accountBalances).where(eq(accountBalances.accountId, accountId)))[0]!.graceStartedAt;
    await postEntry(db, { accountId, kind: "topup", amountCents: 100, reference: "g1" });
    expect(await grace()).toBeNull();
    await postEntry(db, { accountId, kind: "debit", amountCents: -150, reference: "g2" });
    const started = await grace();
    expect(started).toBeInstanceOf(Date);
    await postEntry(db, { accountId, kind: "topup", amountCents: 20, reference: "g3" });
    expect((await grace())!.getTime()).toBe(started!.getTime());
    await postEntry(db, { accountId, kind: "topup", amountCents: 30, reference: "g4" });
    expect(await grace()).toBeNull();
  });
});

describe("listing", () => {
  test("newest first, in pages that neither skip nor repeat, filtered by kind and instance", async () => {
    const { accountId } = await newUser(db);
    for (let i = 0; i < 7; i++) {
      await postEntry(db, {
        accountId,
        kind: i % 2 ? "debit" : "topup",
        amountCents: i % 2 ? -(i + 1) : i + 1,
        reference: `page-${i}`,
        instanceId: i % 2 ? "inst_a" : null,
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listLedger(db, accountId, { limit: 3, cursor });
      seen.push(...page.entries.map((e) => e.reference));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["page-6", "page-5", "page-4", "page-3", "page-2", "page-1", "page-0"]);
    expect((await listLedger(db, accountId, { limit: 10, kind: "debit" })).entries.map((e) => e.reference)).toEqual(["page-5", "page-3", "page-1"]);
    expect((await listLedger(db, accountId, { limit: 10, instanceId: "inst_a" })).entries).toHaveLength(3);
  });

  test("entries that share one created_at, as a billing tick's debits do, page without a skip", async () => {
    const { accountId } = await newUser(db);
    // One transaction: one now(), to the microsecond. A cursor cut to milliseconds skipped the rest after a page.
    await db.transaction(async (tx) => {
      for (let i = 0; i < 7; i++) await postEntry(tx, { accountId, kind: "topup", amountCents: i + 1, reference: `tick-${i}` });
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listLedger(db, accountId, { limit: 2, cursor });
      seen.push(...page.entries.map((e) => e.reference));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.toSorted()).toEqual(["tick-0", "tick-1", "tick-2", "tick-3", "tick-4", "tick-5", "tick-6"]);
  });

  test("a cursor that was not given out is a clear error", async () => {
    const { accountId } = await newUser(db);
    await expect(listLedger(db, accountId, { limit: 3, cursor: "bm9wZQ" })).rejects.toThrow("not one the ledger gave out");
    // Not a calendar time (Date would read it as 3 March): refused here, not by the database.
    const february31 = Buffer.from(JSON.stringify(["2026-02-31T00:00:00.000000Z", "led_x"])).toString("base64url");
    await expect(listLedger(db, accountId, { limit: 3, cursor: february31 })).rejects.toThrow("not one the ledger gave out");
  });
});
