/**
 * Billing in a real browser (Debian's chromium through playwright-core)
 * against the real api on a fresh database: a top-up through the development
 * gateway from the dialog to the ledger, a canceled one, and the grace banner.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Page } from "playwright-core";
import { instances, memberships, users } from "../../db/schema";
import { createApp, webBuildDir } from "../../server/app";
import { postEntry } from "../../src/billing/ledger";
import { loadConfig } from "../../src/config";
import { newId } from "../../src/ids";
import { browserForFile, seen, signUpInBrowser, TEST_PASSWORD } from "../support/browser";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";

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

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).first().textContent())?.trim();

describe("billing in the browser", () => {
  test("top up €50 through the development gateway: credited once, listed with the checkout id; a canceled top-up changes nothing", async () => {
    const page = await newPage();
    await signUp(page);
    await openBilling(page);
    expect(await text(page, "balance")).toBe("€0.00");
    expect(await text(page, "runway")).toContain("No running instances");
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
    const instanceId = newId("instance");
    await db.insert(instances).values({
      id: instanceId,
      accountId,
      name: "llama-test",
      state: "running",
      modelClass: "llm",
      gpuPreferences: ["L4"],
      gpuCount: 1,
      tier: "secure",
      rateCentsPerHour: 280,
      pricingSnapshot: { lockedAt: new Date().toISOString(), modelClass: "llm", tier: "secure", gpuCount: 1, rows: [] },
      runtimeConfig: {
        runtimeId: null,
        templateId: null,
        image: "test",
        command: [],
        localBinary: null,
        port: null,
        healthPath: null,
        ports: [],
        contextLength: null,
      },
    });
    await postEntry(db, { accountId, kind: "adjustment", amountCents: 1_096, reference: "adjustment:welcome", description: "Welcome credit" });
    await postEntry(db, { accountId, kind: "debit", amountCents: -200, reference: `debit:${instanceId}:1`, instanceId, description: "Usage" });
    await openBilling(page);
    expect(await text(page, "balance")).toBe("€8.96");
    expect(await text(page, "runway")).toBe("Lasts about 3 h 12 min at €2.80/h");
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
    expect(await text(page, "runway")).toContain("Used up");

    // Its "Top up" opens the same dialog.
    await banner.getByRole("button", { name: "Top up" }).click();
    expect(await seen(page.getByRole("dialog", { name: "Add funds" }).getByLabel("Amount", { exact: true }))).toBe(true);
  }, 60_000);
});
