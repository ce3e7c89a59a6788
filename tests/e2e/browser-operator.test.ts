/**
 * The Operator page in a real browser against the real api on a fresh database, with OPERATOR_EMAILS naming
 * the operator: providers, pods, queues, payment reviews and accounts are shown, a review is resolved and an
 * adjustment is posted through its dialog (landing in the account's ledger once); at 1280 px and 390 px. A
 * customer sees no Operator link, and /operator tells them it is not for them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { ledgerEntries } from "../../db/schema";
import { createApp, webBuildDir } from "../../server/app";
import { findBalanceDrift, postEntry } from "../../src/billing/ledger";
import { recordPaymentReview } from "../../src/billing/payment-reviews";
import { loadConfig, projectRoot } from "../../src/config";
import { createQueue, noJobQueue } from "../../src/jobs/queue";
import type { Provider } from "../../src/providers/seam";
import { browserForFile, seen, signInInBrowser } from "../support/browser";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { insertInstanceRow, newUser } from "../support/factories";

if (!existsSync(join(webBuildDir, "200.html"))) throw new Error("The web app is not built: run `bun src/platform/web-build.ts` first.");
const database = await freshDatabase();
const { db } = database;
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const config = loadConfig({ PORT: String(port), PUBLIC_URL: origin, OPERATOR_EMAILS: "ops@example.com" });
const boss = createQueue(database.url, { sendOnly: true });
await boss.start();
await boss.createQueue("billing.tick");
/** One cloud that answers with no capacity: only what the offers cache asks of a provider. */
const providers = [{ id: "fake-cloud", offers: async () => [] }] as unknown as Provider[];
const app = createApp({ db, config, jobs: noJobQueue, boss, providers }).listen({ port, hostname: "127.0.0.1" });
const { newPage } = browserForFile();
const ARTIFACTS = join(projectRoot, "tests", "artifacts");

beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));
afterAll(async () => {
  await app.stop(true);
  await boss.stop({ graceful: false });
});

describe("the Operator page", () => {
  test("an operator sees the platform, resolves a review and posts an adjustment, at 1280 px and 390 px", async () => {
    const operator = await newUser(db, "ops@example.com");
    const customer = await newUser(db, "customer@example.com");
    await postEntry(db, { accountId: customer.accountId, kind: "topup", amountCents: 1000, reference: "chk_customer" });
    await insertInstanceRow(db, { accountId: customer.accountId, state: "running", providerId: "fake-cloud" });
    await recordPaymentReview(db, {
      reason: "unknown_checkout",
      eventId: "evt_browser_1",
      eventType: "checkout.session.completed",
      checkoutId: "cs_missing",
      accountId: null,
      detail: { event: { amountTotal: 2500, currency: "eur", paymentStatus: "paid", status: "complete" }, stored: null },
    });

    const page = await newPage();
    await signInInBrowser(page, origin, operator);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Operator" }).click();
    await page.waitForURL("**/operator");
    await seen(page.getByRole("heading", { name: "Operator", level: 1 }));

    const provider = page.locator('[data-testid="operator-provider"][data-provider="fake-cloud"]');
    await seen(provider);
    expect(await page.getByTestId("operator-pods").first().textContent()).toContain("1 running");
    expect(await page.getByTestId("operator-queue").first().textContent()).toContain("billing.tick");
    const review = page.getByTestId("operator-review");
    expect(await review.textContent()).toContain("event 2500 cents eur (paid); no stored checkout");
    const row = page.locator(`[data-testid="operator-account"][data-account="${customer.accountId}"]`);
    expect(await row.getByTestId("operator-balance").textContent()).toContain("€10.00");
    await page.screenshot({ path: join(ARTIFACTS, "operator-1280.png"), fullPage: true });

    await review.getByRole("button", { name: "Resolve" }).click();
    await seen(page.getByText("Nothing to review"));

    // The dialog: a debit of €12.50 with a reason, checked before it is posted.
    await row.getByRole("button", { name: /Adjust/ }).click();
    const dialog = page.getByRole("dialog", { name: "Adjust balance" });
    await dialog.getByText("Debit (take back)").click();
    await dialog.getByLabel("Amount").fill("12,50");
    await dialog.getByRole("button", { name: "Review adjustment" }).click();
    await seen(dialog.getByText("Say why this adjustment is made"));
    await dialog.getByLabel("Reason").fill("Chargeback on the first top-up");
    await dialog.getByRole("button", { name: "Review adjustment" }).click();
    const confirmation = dialog.getByTestId("adjust-confirmation");
    expect(await confirmation.textContent()).toContain("-€12.50");
    expect(await confirmation.textContent()).toContain("-€2.50");
    await dialog.getByRole("button", { name: "Post adjustment" }).click();
    await seen(page.getByText("-€12.50 posted to"));
    expect(await row.getByTestId("operator-balance").textContent()).toContain("-€2.50");
    expect(await row.getByTestId("operator-grace").textContent()).toContain("In grace");

    const adjustments = (await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, customer.accountId))).filter(
      (entry) => entry.kind === "adjustment",
    );
    expect(adjustments.map((entry) => [entry.amountCents, entry.description])).toEqual([
      [-1250, "Adjustment by ops@example.com: Chargeback on the first top-up"],
    ]);
    expect(await findBalanceDrift(db)).toEqual([]);

    // A phone: every card fits without sideways scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await seen(row);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, "operator-390.png"), fullPage: true });
  }, 60_000);

  test("a customer has no Operator link, and /operator refuses them clearly", async () => {
    const customer = await newUser(db);
    const page = await newPage();
    await signInInBrowser(page, origin, customer);
    const nav = page.getByRole("navigation", { name: "Main" });
    await seen(nav.getByRole("link", { name: "Instances" }));
    expect(await nav.getByRole("link", { name: "Operator" }).count()).toBe(0);

    await page.goto(`${origin}/operator`);
    await seen(page.getByTestId("operator-refusal"));
    expect(await page.getByTestId("operator-refusal").textContent()).toContain("This page is for platform operators");
    expect(await page.getByTestId("operator-account").count()).toBe(0);
  }, 60_000);
});
