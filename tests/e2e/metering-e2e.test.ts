/**
 * Per-second metering end to end, from a clean start (issue 11): the platform
 * as `npm start` runs it with a 5 s billing tick, a new person who signs up in
 * Chromium, pays a top-up on the development gateway's page and launches real
 * pods (agent + reference runtime) with the `qdz` CLI. `show --metered`, the
 * ledger, the balance and the Details tab must agree to the cent. Time passes
 * as the tick bills it: the tests wait on billed seconds, never on a clock.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { ledgerEntryJson } from "../../src/billing/ledger-json";
import type { Metered } from "../../src/metering/metered";
import { browserForFile, seen, signUpInBrowser, TEST_PASSWORD } from "../support/browser";
import { parsed } from "../support/cli-results";
import { referenceLaunch, waitFor } from "../support/compute";
import { type CliRunner, platformForFile } from "../support/platform";

const platform = platformForFile({ env: { BILLING_TICK_SECONDS: "5" } });
const { newPage } = browserForFile();

type LedgerEntry = ReturnType<typeof ledgerEntryJson>;

/** What every run costs in total: the rule, in whole cents rounded down. */
const cost = (seconds: number, rateCentsPerHour: number) => Math.floor((seconds * rateCentsPerHour) / 3600);
const sum = (entries: LedgerEntry[]) => entries.reduce((total, entry) => total + entry.amount_cents, 0);

/** A new person: signs up in the browser, signs the CLI in as them, and pays a top-up of `eur` on the gateway's page. */
async function newCustomer(eur: number) {
  const page = await newPage();
  const email = await signUpInBrowser(page, platform.url, "metering");
  const cli = platform.cli();
  parsed(await cli(["login", "--email", email, "--password-stdin", "--json"], { stdin: `${TEST_PASSWORD}\n` }));
  const checkout = parsed(await cli(["topup", String(eur), "--json"]));
  await page.goto(checkout.url);
  await page.getByRole("button", { name: `Pay €${eur}.00` }).click();
  // The gateway sends the person back to the success page for this checkout, as the web app's own top-up does.
  await page.waitForURL(`**/billing/top-up/success?session_id=${checkout.id}`);
  await seen(page.getByRole("heading", { name: `€${eur}.00 added` }));
  expect(await balance(cli)).toBe(eur * 100);
  return { page, cli, topUpCents: eur * 100 };
}

/** `qdz instances launch … --wait`: returns the running instance. */
async function launchRunning(cli: CliRunner, gpu: string, gpus: number) {
  const args = ["instances", "launch", "--runtime", referenceLaunch.runtimeId, "--model", referenceLaunch.hfRepo, "--gpu", gpu, "--gpus", String(gpus)];
  const instance = parsed(await cli([...args, "--wait", "--json"]));
  expect(instance.state).toBe("running");
  return instance;
}

const metered = async (cli: CliRunner, id: string): Promise<Metered> => parsed(await cli(["instances", "show", id, "--metered", "--json"]));
const balance = async (cli: CliRunner): Promise<number> => parsed(await cli(["balance", "--json"])).balance_cents;

/** Every ledger entry `qdz ledger …filters` lists, following the cursor to the end. */
async function ledger(cli: CliRunner, filters: string[] = []): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: LedgerEntry[]; next_cursor: string | null } = parsed(
      await cli(["ledger", ...filters, "--limit", "200", ...(cursor ? ["--cursor", cursor] : []), "--json"]),
    );
    entries.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return entries;
}

/** The billed seconds of a debit's reference, `debit:<run>:<billed seconds>`. */
function billedSecondsOf(entry: LedgerEntry, runId: string): number {
  const match = new RegExp(`^debit:${runId}:(\\d+)$`).exec(entry.reference);
  if (!match) throw new Error(`'${entry.reference}' is not a debit of run ${runId}`);
  return Number(match[1]);
}

/** Cumulative, never per tick: after each debit, the run's debits so far are exactly the cost of the seconds it names. */
function expectCumulative(debits: LedgerEntry[], runId: string, rate: number) {
  let debited = 0;
  for (const entry of [...debits].sort((a, b) => billedSecondsOf(a, runId) - billedSecondsOf(b, runId))) {
    debited -= entry.amount_cents;
    expect([entry.reference, debited]).toEqual([entry.reference, cost(billedSecondsOf(entry, runId), rate)]);
  }
}

/** `€1,234.56` → 123456. */
function cents(text: string): number {
  const match = /^€([\d,]+)\.(\d\d)$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not an amount in EUR`);
  return Number(match[1]!.replaceAll(",", "")) * 100 + Number(match[2]);
}

/** What the instance's Details tab shows in its Metering card, read as a person reads it, in numbers. */
async function meteringCard(page: Page, id: string) {
  await page.goto(`${platform.url}/instances/${id}`);
  const card = page.getByTestId("metering");
  await seen(card);
  const text = async (testId: string) => (await card.getByTestId(testId).textContent())!.trim();
  const arithmetic = await text("metering-arithmetic");
  const debited = /the ledger holds (€[\d,]+\.\d\d) debited for this run/.exec(arithmetic)?.[1];
  if (!debited) throw new Error(`the arithmetic names no debit: '${arithmetic}'`);
  return {
    seconds: Number((await text("metering-seconds")).replace(/ s$/, "").replaceAll(",", "")),
    rate: await text("metering-rate"),
    chargeCents: cents(await text("metering-charge")),
    refundedCents: cents(await text("metering-refunded")),
    debitedCents: cents(debited),
    arithmetic,
  };
}

describe("per-second metering, end to end", () => {
  test("a run stopped after ~70 s is debited by the tick while it runs and settled at the stop; --metered, ledger, balance and Details tab agree", async () => {
    const { page, cli, topUpCents } = await newCustomer(50);
    // 1×H100 at €3.87/h: a cent every ~9.3 s, so the 5 s tick has several debits to post within 70 s.
    const instance = await launchRunning(cli, "H100-80G", 1);
    const id: string = instance.id;
    const runId: string = instance.runs[0].id;

    // About 70 s of running, as the tick bills it; the run is still live when it is reached.
    const live = await waitFor(
      () => metered(cli, id),
      (m) => m.seconds_billed >= 68,
      120_000,
      "68 billed seconds",
    );
    expect(live.runs[0]!.ended_at).toBeNull();
    const rate = live.rate_cents_per_hour!;
    expect(rate).toBe(instance.rateCentsPerHour);
    // The tick really ran: debits for the live run, at several billed totals, before any stop.
    const ticked = await ledger(cli, ["--instance", id, "--kind", "debit"]);
    expect(ticked.length).toBeGreaterThanOrEqual(3);
    const tickedSeconds = ticked.map((entry) => billedSecondsOf(entry, runId));
    expect(new Set(tickedSeconds).size).toBe(ticked.length);
    for (const seconds of tickedSeconds) expect(seconds).toBeLessThanOrEqual(live.seconds_billed);
    expectCumulative(ticked, runId, rate);

    expect(parsed(await cli(["instances", "stop", id, "--json"])).state).toBe("stopping");
    const done = await waitFor(
      () => metered(cli, id),
      (m) => m.runs[0]!.settled,
      30_000,
      "the stopped run's settlement",
    );

    // --metered: the arithmetic holds to the cent, for the run and in total.
    const seconds = done.seconds_billed;
    expect(seconds).toBeGreaterThanOrEqual(live.seconds_billed);
    expect(seconds).toBeLessThan(100);
    expect(done).toMatchObject({ rate_cents_per_hour: rate, rate_per_hour: rate / 100, debited_cents: cost(seconds, rate), refunded_cents: 0 });
    expect(done.current_charge).toBe(Math.floor((seconds * rate * 10) / 3600) / 1000);
    expect(done.runs).toHaveLength(1);
    expect(done.runs[0]).toMatchObject({ run_id: runId, ended_because: "stopped", seconds_billed: seconds, debited_cents: done.debited_cents });
    expect(done.total).toEqual({ seconds_billed: seconds, debited_cents: done.debited_cents, refunded_cents: 0 });

    // The ledger: the tick's debits are kept, settlement adds at most the last cents; together they are the charge. No refund for a stop.
    const entries = await ledger(cli, ["--instance", id]);
    expect(entries.every((entry) => entry.kind === "debit" && entry.instance_id === id)).toBe(true);
    expect(-sum(entries)).toBe(done.debited_cents);
    expect(entries.map((entry) => entry.id)).toEqual(expect.arrayContaining(ticked.map((entry) => entry.id)));
    expectCumulative(entries, runId, rate);
    expect(Math.max(...entries.map((entry) => billedSecondsOf(entry, runId)))).toBeLessThanOrEqual(seconds);

    // The balance: the top-up less the debits, and the sum of every entry.
    const all = await ledger(cli);
    expect(await balance(cli)).toBe(topUpCents - done.debited_cents);
    expect(sum(all)).toBe(topUpCents - done.debited_cents);
    expect(all.filter((entry) => entry.kind === "topup").map((entry) => entry.amount_cents)).toEqual([topUpCents]);

    // The Details tab shows the same seconds, rate and cents.
    const card = await meteringCard(page, id);
    expect(card).toMatchObject({
      seconds,
      rate: `€${(rate / 100).toFixed(2)}/h`,
      chargeCents: done.debited_cents,
      debitedCents: done.debited_cents,
      refundedCents: 0,
    });
    expect(card.arithmetic).toContain(`= €${done.current_charge.toFixed(3)}`);
    console.log(
      `metering e2e: stopped run billed ${seconds} s at ${rate} c/h = ${done.debited_cents} cents in ${entries.length} debits (${ticked.length} before the stop)`,
    );
  }, 240_000);

  test("a pod killed ~20 s after running is refunded in full: the ledger shows its debits and the refund, --metered and the Details tab the refund", async () => {
    const { page, cli, topUpCents } = await newCustomer(50);
    // 2×A100-80G at €4.94/h: 20 s cost cents worth refunding.
    const instance = await launchRunning(cli, "A100-80G", 2);
    const id: string = instance.id;
    const run = instance.runs[0];

    const live = await waitFor(
      () => metered(cli, id),
      (m) => m.seconds_billed >= 20,
      60_000,
      "20 billed seconds",
    );
    expect(live.runs[0]!.ended_at).toBeNull();
    expect((await ledger(cli, ["--instance", id, "--kind", "debit"])).length).toBeGreaterThan(0);

    // The reference runtime's process dies as the OOM killer kills it; its agent reports the exit.
    const workloadPid = Number(readFileSync(join(platform.dataDir, "pods", run.podId, "workload.pid"), "utf8"));
    process.kill(workloadPid, "SIGKILL");
    const failed = await waitFor(
      () => cli(["instances", "show", id, "--json"]).then(parsed),
      (i) => i.state === "failed",
      30_000,
      "the failure",
    );
    expect(failed.failureReason).toBe("The runtime process was killed by SIGKILL.");
    const done = await waitFor(
      () => metered(cli, id),
      (m) => m.runs[0]!.settled,
      30_000,
      "the failed run's settlement",
    );

    const seconds = done.seconds_billed;
    const rate = done.rate_cents_per_hour!;
    expect(seconds).toBeGreaterThanOrEqual(20);
    expect(seconds).toBeLessThan(60);
    expect(done.debited_cents).toBe(cost(seconds, rate));
    expect(done.debited_cents).toBeGreaterThan(0);
    expect(done).toMatchObject({
      refunded_cents: done.debited_cents,
      total: { seconds_billed: seconds, debited_cents: done.debited_cents, refunded_cents: done.debited_cents },
    });
    expect(done.runs[0]).toMatchObject({ run_id: run.id, ended_because: "failed", refunded_cents: done.debited_cents });

    // The ledger: the run's debits, and one refund of all of them.
    const entries = await ledger(cli, ["--instance", id]);
    const debits = entries.filter((entry) => entry.kind === "debit");
    const refunds = entries.filter((entry) => entry.kind === "refund");
    expect(debits.length).toBeGreaterThan(0);
    expectCumulative(debits, run.id, rate);
    expect(debits.length + refunds.length).toBe(entries.length);
    expect(-sum(debits)).toBe(done.debited_cents);
    expect(refunds.map((entry) => [entry.reference, entry.amount_cents, entry.instance_id])).toEqual([[`refund:${run.id}`, done.debited_cents, id]]);

    // Refunded in full: the balance is the top-up again, and the sum of every entry.
    expect(await balance(cli)).toBe(topUpCents);
    expect(sum(await ledger(cli))).toBe(topUpCents);

    // The Details tab: the failure with its refund, and the Metering card's same numbers.
    const card = await meteringCard(page, id);
    expect(card).toMatchObject({ seconds, chargeCents: done.debited_cents, debitedCents: done.debited_cents, refundedCents: done.debited_cents });
    const refundNote = (await page.getByTestId("failure-refund").textContent())!.trim();
    expect(refundNote).toStartWith(`Refunded €${(done.debited_cents / 100).toFixed(2)} in full`);
    console.log(
      `metering e2e: killed run billed ${seconds} s at ${rate} c/h = ${done.debited_cents} cents in ${debits.length} debits, refunded ${done.debited_cents}`,
    );
  }, 120_000);
});
