/**
 * Billing in a real browser (Debian's chromium through playwright-core)
 * against the real api on a fresh database: a top-up through the development
 * gateway from the dialog to the ledger, a canceled one, the grace banner, and
 * the runway at the live burn rate on Billing and on a running instance's page
 * (no workers run here, so no tick moves the balance under the assertions).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import type { Locator, Page } from "playwright-core";
import { instanceRuns, memberships, users } from "../../db/schema";
import { createApp, webBuildDir } from "../../server/app";
import { postEntry } from "../../src/billing/ledger";
import { loadConfig } from "../../src/config";
import { newId } from "../../src/ids";
import { browserForFile, seen, signUpInBrowser, TEST_PASSWORD } from "../support/browser";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { insertInstanceRow } from "../support/factories";

// As `startWebServer` does, but keeping the database: the grace test posts ledger entries through the domain.
// At the top level: the fresh database's own clean-up is registered for this file.
if (!existsSync(join(webBuildDir, "200.html"))) throw new Error("The web app is not built: run `bun src/platform/web-build.ts` first.");
const { db } = await freshDatabase();
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const app = createApp({ db, config: loadConfig({ PORT: String(port), PUBLIC_URL: origin }) }).listen({ port, hostname: "127.0.0.1" });

const { newPage } = browserForFile();

afterAll(async () => {
  await app.stop(true);
});

const signUp = (page: Page) => signUpInBrowser(page, origin, "payer");

async function openBilling(page: Page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Billing" }).click();
  await page.waitForURL("**/billing");
  await seen(page.getByRole("heading", { level: 1, name: "Billing" }));
}

async function accountIdOf(email: string): Promise<string> {
  const [row] = await db
    .select({ accountId: memberships.accountId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(users.email, email));
  return row!.accountId;
}

/** Opens "Add funds", enters `amount` and continues to the development gateway; returns the checkout id from its URL. */
async function startTopUp(page: Page, amount: string): Promise<string> {
  await page.getByTestId("balance").waitFor();
  await page.getByRole("button", { name: "Add funds" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add funds" });
  await dialog.getByLabel("Amount", { exact: true }).fill(amount);
  await dialog.getByRole("button", { name: "Continue to payment" }).click();
  await page.waitForURL("**/dev-checkout/*");
  return decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
}

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).first().textContent())?.trim().replace(/\s+/g, " ");

/**
 * An instance named `name` with one run at `rate` c/h, as `src/instances/runs.ts` leaves it: running (billed
 * now, so it burns), or stopped (its run ended). Rows only: no pod, and no worker ticks in this file.
 */
async function instanceWithRun(accountId: string, name: string, rate: number, state: "running" | "stopped" = "running"): Promise<string> {
  const runId = newId("run");
  const instanceId = await insertInstanceRow(db, { accountId, name, state, rateCentsPerHour: rate, currentRunId: runId });
  await db.insert(instanceRuns).values({
    id: runId,
    instanceId,
    number: 1,
    rateCentsPerHour: rate,
    runningAt: sql`now() - interval '5 minutes'`,
    lastHeartbeatAt: sql`now()`,
    endedAt: state === "stopped" ? sql`now()` : null,
    endedBecause: state === "stopped" ? "stopped" : null,
  });
  return instanceId;
}

/** A new person with `cents` credited, two instances running at €2.80/h and €1.30/h and one stopped. */
async function burningAccount(page: Page, cents: number) {
  const accountId = await accountIdOf(await signUp(page));
  await postEntry(db, { accountId, kind: "adjustment", amountCents: cents, reference: `adjustment:${accountId}`, description: "Credit" });
  const running = await instanceWithRun(accountId, "llama-burning", 280);
  await instanceWithRun(accountId, "embedder-burning", 130);
  const stopped = await instanceWithRun(accountId, "idle-stopped", 5_000, "stopped");
  return { accountId, running, stopped };
}

/** How long a poll takes to show a change: the pages re-read the balance every 10 s. */
const POLL_WAIT = 15_000;

describe("billing in the browser", () => {
  test("top up €50 through the development gateway: credited once, listed with the checkout id; a canceled top-up changes nothing", async () => {
    const page = await newPage();
    await signUp(page);
    await openBilling(page);
    expect(await text(page, "balance")).toBe("€0.00");
    expect(await text(page, "runway")).toBe("Nothing running: nothing draws from it.");
    expect(await seen(page.getByText("Development gateway"))).toBe(true);
    expect(await seen(page.getByText("No transactions yet"))).toBe(true);

    await page.getByRole("button", { name: "Add funds" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Add funds" });
    const amount = dialog.getByLabel("Amount", { exact: true });
    await seen(dialog.getByText("Between €5.00 and €10,000.00"));

    // A preset fills the field, and reads as chosen.
    await dialog.getByRole("button", { name: "€25", exact: true }).click();
    expect(await amount.inputValue()).toBe("25");
    expect(await dialog.getByRole("button", { name: "€25", exact: true }).getAttribute("aria-pressed")).toBe("true");
    expect(await text(page, "balance-after")).toBe("€25.00");

    // Below the minimum, and more than two decimals: refused inline, tied to the field, and nothing leaves the page.
    await amount.fill("2");
    await dialog.getByRole("button", { name: "Continue to payment" }).click();
    expect(await seen(dialog.getByText("The minimum top-up is €5.00."))).toBe(true);
    expect(await amount.getAttribute("aria-invalid")).toBe("true");
    const describedBy = await amount.getAttribute("aria-describedby");
    expect(await dialog.locator(`[id="${describedBy}"]`).textContent()).toContain("The minimum top-up is €5.00.");
    await amount.fill("50.123");
    expect(await seen(dialog.getByText("Use at most 2 decimals"))).toBe(true);
    await amount.fill("50,5");
    await dialog.getByText("The minimum top-up is", { exact: false }).waitFor({ state: "hidden" });
    expect(await text(page, "balance-after")).toBe("€50.50");
    expect(new URL(page.url()).pathname).toBe("/billing");

    await amount.fill("50");
    await dialog.getByRole("button", { name: "Continue to payment" }).click();
    await page.waitForURL("**/dev-checkout/*");
    const checkoutId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
    expect(checkoutId).toMatch(/^cs_dev_[0-9A-Za-z]+$/);

    // The development gateway's page says what it is, what is paid, and by whom.
    await seen(page.getByRole("heading", { name: "Confirm your top-up" }));
    expect(await seen(page.getByText("No card is charged: this server has no Stripe keys."))).toBe(true);
    expect(await text(page, "checkout-amount")).toBe("€50.00");
    expect(await seen(page.getByText(checkoutId))).toBe(true);
    await page.getByRole("button", { name: "Pay €50.00" }).click();

    await page.waitForURL(`**/billing/top-up/success?session_id=${checkoutId}`);
    expect(await seen(page.getByRole("heading", { name: "€50.00 added" }))).toBe(true);
    expect(await seen(page.getByTestId("new-balance").getByText("€50.00"))).toBe(true);
    await page.getByRole("link", { name: "Back to Billing" }).click();
    await page.waitForURL("**/billing");

    await seen(page.getByTestId("ledger-row"));
    expect(await text(page, "balance")).toBe("€50.00");
    const rows = page.getByTestId("ledger-row");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getByText("Top-up", { exact: true }).isVisible()).toBe(true);
    expect(await text(page, "ledger-amount")).toBe("+€50.00");
    expect(await text(page, "ledger-reference")).toBe(checkoutId);
    expect(await page.getByTestId("ledger-reference").getAttribute("title")).toBe(checkoutId);

    // The kind filter: no usage yet, then everything again.
    await page.getByLabel("Filter by type").selectOption("debit");
    await page.waitForURL("**/billing?kind=debit");
    expect(await seen(page.getByText("No usage entries"))).toBe(true);
    await page.getByRole("button", { name: "Show all transactions" }).click();
    await page.waitForURL("**/billing");
    await seen(page.getByTestId("ledger-row"));

    // A second top-up, canceled on the gateway: back on Billing with a notice, and the balance unchanged.
    const canceledId = await startTopUp(page, "25");
    expect(canceledId).not.toBe(checkoutId);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.waitForURL("**/billing");
    expect(await seen(page.getByRole("status").getByText("Top-up canceled"))).toBe(true);
    expect(await text(page, "balance")).toBe("€50.00");
    expect(await page.getByTestId("ledger-row").count()).toBe(1);

    // Gateway pages already used say so, rather than offering to pay again.
    await page.goto(`${origin}/dev-checkout/${checkoutId}`);
    expect(await seen(page.getByRole("heading", { name: "Already paid" }))).toBe(true);
    expect(await page.getByRole("button", { name: /^Pay/ }).count()).toBe(0);
    await page.goto(`${origin}/dev-checkout/${canceledId}`);
    expect(await seen(page.getByRole("heading", { name: "Checkout canceled" }))).toBe(true);
    await page.goto(`${origin}/billing/top-up/success?session_id=${canceledId}`);
    expect(await seen(page.getByRole("heading", { name: "Top-up canceled" }))).toBe(true);
    await page.goto(`${origin}/billing/top-up/success?session_id=cs_dev_doesnotexist`);
    expect(await seen(page.getByRole("heading", { name: "Top-up not found" }))).toBe(true);

    // "Billing → Top up" as a link (the Billing document's example cancel URL) opens the dialog on Billing.
    await page.goto(`${origin}/billing/top-up`);
    expect(await seen(page.getByRole("dialog", { name: "Add funds" }).getByLabel("Amount", { exact: true }))).toBe(true);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe("/billing");
  }, 60_000);

  test("the development gateway's page sends a signed-out visitor to sign in and back; the success page waits for the confirmation", async () => {
    const page = await newPage();
    const email = await signUp(page);
    await openBilling(page);
    const checkoutId = await startTopUp(page, "10");

    await page.goto(`${origin}/billing`);
    await page.getByLabel(`User menu for ${email}`).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/login");

    await page.goto(`${origin}/dev-checkout/${checkoutId}`);
    await page.waitForURL(`**/login?next=${encodeURIComponent(`/dev-checkout/${checkoutId}`)}`);
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`**/dev-checkout/${checkoutId}`);
    expect(await seen(page.getByRole("button", { name: "Pay €10.00" }))).toBe(true);

    // The success page, opened before the payment is confirmed, waits for it and then shows the credit.
    const success = await page.context().newPage();
    await success.goto(`${origin}/billing/top-up/success?session_id=${checkoutId}`);
    expect(await seen(success.getByRole("heading", { name: "Waiting for the payment to be confirmed…" }))).toBe(true);
    await page.getByRole("button", { name: "Pay €10.00" }).click();
    await page.waitForURL("**/billing/top-up/success?*");
    expect(await seen(success.getByRole("heading", { name: "€10.00 added" }))).toBe(true);
    expect(await seen(success.getByTestId("new-balance").getByText("€10.00"))).toBe(true);
  }, 60_000);

  test("runway at the burn rate, instance links in the ledger, and the grace banner once the balance is negative", async () => {
    const page = await newPage();
    const email = await signUp(page);
    const accountId = await accountIdOf(email);

    // €8.96 at €2.80/h lasts 3.2 h: 3 h 12 min.
    const instanceId = await instanceWithRun(accountId, "llama-test", 280);
    await postEntry(db, { accountId, kind: "adjustment", amountCents: 1_096, reference: "adjustment:welcome", description: "Welcome credit" });
    await postEntry(db, { accountId, kind: "debit", amountCents: -200, reference: `debit:${instanceId}:1`, instanceId, description: "Usage" });
    await openBilling(page);
    expect(await text(page, "balance")).toBe("€8.96");
    expect(await text(page, "runway")).toBe("Burning €2.80/h · runway ~3 h 12 min");
    expect(await page.getByTestId("grace-banner").count()).toBe(0);
    const debit = page.getByTestId("ledger-row").filter({ hasText: "Usage" });
    expect(await debit.getByTestId("ledger-amount").textContent()).toContain("-€2.00");
    expect(await debit.getByRole("link", { name: instanceId }).getAttribute("href")).toBe(`/instances/${instanceId}`);

    await postEntry(db, { accountId, kind: "debit", amountCents: -2_146, reference: `debit:${instanceId}:2`, instanceId });
    await page.reload();
    const banner = page.getByTestId("grace-banner");
    expect(await seen(banner.getByText("Your balance is negative"))).toBe(true);
    expect(await banner.textContent()).toContain("Running instances will be stopped on");
    expect(await text(page, "balance")).toBe("-€12.50");
    expect(await text(page, "runway")).toBe("Burning €2.80/h · runway used up");
    // The grace banner speaks for a negative balance: no low-runway warning beside it.
    expect(await page.getByTestId("low-runway").count()).toBe(0);

    // Its "Top up" opens the same dialog.
    await banner.getByRole("button", { name: "Top up" }).click();
    expect(await seen(page.getByRole("dialog", { name: "Add funds" }).getByLabel("Amount", { exact: true }))).toBe(true);
  }, 60_000);

  test("the Billing page shows the live burn rate and the runway at it, and warns as soon as the runway is short", async () => {
    const page = await newPage();
    // €41.00 at €2.80/h + €1.30/h (the stopped instance burns nothing) lasts exactly 10 h.
    const { accountId } = await burningAccount(page, 4_100);
    await openBilling(page);
    expect(await text(page, "balance")).toBe("€41.00");
    expect(await text(page, "runway")).toBe("Burning €4.10/h · runway ~10 h");
    expect(await page.getByTestId("low-runway").count()).toBe(0);

    // The billing tick's debits reach the open page without a reload: €2.05 at €4.10/h is 30 min, under the 1 h minimum runway.
    await postEntry(db, { accountId, kind: "debit", amountCents: -3_895, reference: `debit:${accountId}:low`, description: "Usage" });
    const warning = page.getByTestId("low-runway");
    expect(await seen(warning, POLL_WAIT)).toBe(true);
    expect(await text(page, "balance")).toBe("€2.05");
    expect(await text(page, "runway")).toBe("Burning €4.10/h · runway ~30 min");
    expect(await warning.getAttribute("role")).toBe("alert");
    expect(await text(page, "low-runway")).toBe(
      "Low runway: less than 1 h left at the current burn rate. Add funds before it runs out; after that, running instances get a grace window and are then stopped.",
    );
  }, 60_000);

  test("a running instance's page and the Instances list show the account runway; a short one warns with a way to top up", async () => {
    const page = await newPage();
    const { accountId, running, stopped } = await burningAccount(page, 4_100);

    await page.goto(`${origin}/instances/${running}`);
    await seen(page.getByRole("heading", { level: 1, name: "llama-burning" }));
    const runway = page.getByTestId("account-runway");
    expect(await text(page, "account-runway")).toBe("Account balance €41.00 · burning €4.10/h · runway ~10 h");
    expect(await runway.getByRole("alert").count()).toBe(0);

    // A stopped instance's page does not speak of the runway: it draws nothing.
    await page.goto(`${origin}/instances/${stopped}`);
    await seen(page.getByRole("heading", { level: 1, name: "idle-stopped" }));
    expect(await page.getByTestId("account-runway").count()).toBe(0);

    // The list shows the same line while anything runs.
    await page.goto(`${origin}/instances`);
    await seen(page.getByTestId("instance-row").first());
    expect(await text(page, "account-runway")).toBe("Account balance €41.00 · burning €4.10/h · runway ~10 h");

    // On the running instance's page, the balance drops under the minimum runway: the warning comes with the next poll.
    await page.goto(`${origin}/instances/${running}`);
    await seen(page.getByTestId("account-runway"));
    await postEntry(db, { accountId, kind: "debit", amountCents: -3_895, reference: `debit:${accountId}:low`, description: "Usage" });
    const warning = page.getByTestId("low-runway");
    expect(await seen(warning, POLL_WAIT)).toBe(true);
    expect(await text(page, "low-runway")).toBe(
      "Low balance: €2.05 lasts ~30 min at €4.10/h (2 running instances). Top up before it runs out; after that, running instances get a grace window and are then stopped.",
    );
    expect(await page.getByTestId("account-runway").getAttribute("role")).toBe("alert");

    // Its "Top up" leads to Billing's top-up dialog.
    await page.getByTestId("account-runway").getByRole("link", { name: "Top up" }).click();
    await page.waitForURL("**/billing");
    expect(await seen(page.getByRole("dialog", { name: "Add funds" }).getByLabel("Amount", { exact: true }))).toBe(true);
  }, 60_000);

  test("on a phone (375 px), the runway and its warning fit the Billing page and a running instance's page", async () => {
    const page = await newPage({ width: 375, height: 740 });
    const { running } = await burningAccount(page, 205); // 30 min at €4.10/h

    await page.goto(`${origin}/billing`);
    await seen(page.getByRole("heading", { level: 1, name: "Billing" }));
    expect(await text(page, "runway")).toBe("Burning €4.10/h · runway ~30 min");
    await fitsThePhone(page, page.getByTestId("low-runway"));

    await page.goto(`${origin}/instances/${running}`);
    const warning = page.getByTestId("account-runway");
    await fitsThePhone(page, warning);
    expect(await text(page, "low-runway")).toStartWith("Low balance: €2.05 lasts ~30 min at €4.10/h");
    await fitsThePhone(page, warning.getByRole("link", { name: "Top up" }));
  }, 60_000);
});

/** Seen, inside the 375 px viewport, and the page does not scroll sideways. */
async function fitsThePhone(page: Page, locator: Locator) {
  await seen(locator);
  const box = (await locator.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(375);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
}
