/**
 * Spend controls in a real browser (Debian's chromium through playwright-core) against the real api on a
 * fresh database: the account's monthly budget on Billing (read-only for a member), an instance's budget in
 * its Settings, alerts in the bell and on the Notifications page, and the alert webhook's card. No workers
 * run here: spend is posted through the ledger with its rollups, alerts are raised with the domain's
 * `notify()`, and the job queue only records what the api enqueued (so deliveries stay pending).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { and, eq, sql } from "drizzle-orm";
import type { Locator, Page } from "playwright-core";
import { memberships, webhookEndpoints } from "../../db/schema";
import { createApp, webBuildDir } from "../../server/app";
import { acceptInvite, createInvite } from "../../src/accounts/invites";
import { postEntry } from "../../src/billing/ledger";
import { loadConfig, projectRoot } from "../../src/config";
import type { JobQueue } from "../../src/jobs/queue";
import { type Alert, notify } from "../../src/notifications/notify";
import { budgetAlert } from "../../src/spend/alerts";
import { setBudget } from "../../src/spend/budgets";
import { postInstanceEntry } from "../../src/usage/rollup";
import { setEndpoint } from "../../src/webhooks/endpoints";
import { webhookUrlPolicy } from "../../src/webhooks/url-policy";
import { browserForFile, seen, signInInBrowser } from "../support/browser";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { contextOf, insertInstanceRow, newUser, type TestUser } from "../support/factories";

// As browser-billing.test.ts starts its server, keeping the database for the domain's verbs; webhook URLs
// may point at this machine, and the job queue records what was sent.
if (!existsSync(join(webBuildDir, "200.html"))) throw new Error("The web app is not built: run `bun src/platform/web-build.ts` first.");
const { db } = await freshDatabase();
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const config = loadConfig({ PORT: String(port), PUBLIC_URL: origin, WEBHOOK_ALLOW_PRIVATE_URLS: "true" });
const sentJobs: string[] = [];
const jobs: JobQueue = {
  send: async (name) => {
    sentJobs.push(name);
    return null;
  },
};
const app = createApp({ db, config, jobs }).listen({ port, hostname: "127.0.0.1" });
const { newPage } = browserForFile();

const ARTIFACTS = join(projectRoot, "tests", "artifacts");
const PHONE = { width: 375, height: 740 };
/** Where a test webhook points: nothing listens there, and nothing is sent (the queue only records). */
const RECEIVER = "http://127.0.0.1:9/qdz-alerts";

beforeAll(() => {
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await app.stop(true);
});

/** The day this UTC month's spend starts again from zero, as the page writes it. */
const nextMonth = (() => {
  const now = new Date();
  return new Intl.DateTimeFormat("en-IE", { dateStyle: "medium", timeZone: "UTC" }).format(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)));
})();

/** An element's text as read: its words, single-spaced (a no-break space reads as a space). */
const words = async (locator: Locator) => (await locator.first().textContent())?.trim().replace(/\s+/g, " ") ?? "";

interface Spender {
  user: TestUser;
  instanceId: string;
}

/** A person whose account has €100 and an instance, `llama-budget`, that was debited €12.50 this month. */
async function spender(): Promise<Spender> {
  const user = await newUser(db);
  await postEntry(db, { accountId: user.accountId, kind: "topup", amountCents: 10_000, reference: `cs_test_${user.userId}` });
  const instanceId = await insertInstanceRow(db, { accountId: user.accountId, name: "llama-budget", state: "stopped", rateCentsPerHour: 280 });
  // Through the ledger and its rollups, as a billing tick posts usage: what budgets count.
  await postInstanceEntry(db, { accountId: user.accountId, kind: "debit", amountCents: -1_250, reference: `debit:${instanceId}:seed`, instanceId });
  return { user, instanceId };
}

async function signIn(user: TestUser, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await newPage(viewport);
  await signInInBrowser(page, origin, user);
  return page;
}

async function openBilling(page: Page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Billing" }).click();
  await page.waitForURL("**/billing");
  await seen(page.getByRole("heading", { level: 1, name: "Billing" }));
}

/** The account's 80 % alert for the instance, worded as the spend watcher words it. */
function instanceBudgetAlert(instanceId: string, budgetId = "budget_test"): Alert {
  return budgetAlert({
    budgetId,
    instance: { id: instanceId, name: "llama-budget" },
    month: new Date().toISOString().slice(0, 7),
    monthlyCents: 1_500,
    spentCents: 1_250,
    threshold: 80,
    stopped: [],
    stopRunning: false,
  });
}

function plainAlert(n: number): Alert {
  return { kind: "refund", dedupKey: `refund:test-${n}`, severity: "info", title: `Refund ${n}`, body: `Refund number ${n}.`, data: {} };
}

/** The bell in the header, its button and its badge. */
function bell(page: Page) {
  const details = page.getByTestId("notification-bell");
  return {
    details,
    button: details.locator("summary"),
    badge: details.getByTestId("unread-badge"),
    menu: details.getByRole("region", { name: "Latest notifications" }),
  };
}

/** The page does not scroll sideways at this width. */
async function fitsTheWidth(page: Page, width: number) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
}

/** A whole-page screenshot for reviewers, only with QDZ_SCREENSHOTS=1 (every run has new emails, dates and ids). */
async function screenshot(page: Page, name: string, fullPage = true) {
  if (process.env.QDZ_SCREENSHOTS !== "1") return;
  await page.mouse.move(0, 0);
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage, animations: "disabled" });
}

describe("spend controls in the browser", () => {
  test("an account budget on Billing and an instance budget in its Settings, each with this month's spend; a member sees them read-only", async () => {
    const { user, instanceId } = await spender();
    const page = await signIn(user);
    await openBilling(page);

    const card = page.getByTestId("account-budget");
    await seen(card.getByText("No monthly budget"));
    const jobsBefore = sentJobs.length;
    const amount = card.getByRole("textbox", { name: "Monthly budget" });

    // Refused in the page (never read as a float), then by the api: each message under the field, tied to it.
    await amount.fill("12,345");
    await card.getByRole("button", { name: "Set budget" }).click();
    await seen(card.getByText("Use at most 2 decimals"));
    expect(await amount.getAttribute("aria-invalid")).toBe("true");
    await amount.fill("0.50");
    await card.getByRole("button", { name: "Set budget" }).click();
    await seen(card.getByText("Monthly budget must be at least €1.00."));
    const describedBy = await amount.getAttribute("aria-describedby");
    expect(await words(card.locator(`[id="${describedBy}"]`))).toBe("Monthly budget must be at least €1.00.");
    expect(sentJobs.slice(jobsBefore)).not.toContain("spend.watch");

    await amount.fill("50");
    await card.getByRole("checkbox", { name: "Also stop running instances at 100 %" }).check();
    await card.getByRole("button", { name: "Set budget" }).click();
    await seen(page.getByRole("status").getByText("Monthly budget of €50.00 set for the account."));
    expect(await words(card.getByTestId("budget-spent"))).toBe("€12.50");
    expect(await words(card.getByTestId("budget-amount"))).toBe("€50.00");
    expect(await words(card.getByTestId("budget-percent"))).toBe("25 %");
    expect(await words(card.getByTestId("budget-resets"))).toBe(nextMonth);
    expect(await card.getByRole("progressbar", { name: "Account budget: 25 % used" }).getAttribute("value")).toBe("25");
    // The api looks at the new budget at once rather than at the next tick.
    expect(sentJobs.slice(jobsBefore)).toContain("spend.watch");

    // Kept: after a reload the budget, its checkbox and the amount to change it are there.
    await page.reload();
    await seen(card.getByTestId("budget-meter"));
    expect(await amount.inputValue()).toBe("50");
    expect(await card.getByRole("checkbox", { name: "Also stop running instances at 100 %" }).isChecked()).toBe(true);
    await seen(page.getByText("No instance has a budget of its own."));

    // The instance's own budget, in its Settings: the same meter, and what happens at 100 %.
    await page.goto(`${origin}/instances/${instanceId}?tab=settings`);
    const instanceCard = page.getByTestId("instance-budget");
    await seen(instanceCard.getByText("At 100 % this instance is stopped (never deleted) and cannot start again this month unless you raise the budget."));
    await instanceCard.getByRole("textbox", { name: "Monthly budget" }).fill("20");
    await instanceCard.getByRole("button", { name: "Set budget" }).click();
    await seen(instanceCard.getByTestId("budget-meter"));
    expect(await words(instanceCard.getByTestId("budget-spent"))).toBe("€12.50");
    expect(await words(instanceCard.getByTestId("budget-amount"))).toBe("€20.00");
    expect(await words(instanceCard.getByTestId("budget-percent"))).toBe("62 %");
    // An instance's budget stops only its own instance: no such checkbox here.
    expect(await instanceCard.getByRole("checkbox").count()).toBe(0);

    // Billing lists it, linking back to the instance's Settings.
    await openBilling(page);
    const row = page.getByTestId("instance-budget-row");
    expect(await row.count()).toBe(1);
    expect(await row.getByRole("link", { name: "llama-budget" }).getAttribute("href")).toBe(`/instances/${instanceId}?tab=settings`);
    expect(await words(row.getByTestId("budget-spend"))).toBe("€12.50 of €20.00");
    expect(await words(row.getByTestId("budget-percent"))).toBe("62 %");
    await fitsTheWidth(page, 1280);

    // Removing the instance's budget from its Settings, after a confirmation.
    await row.getByRole("link", { name: "llama-budget" }).click();
    await page.waitForURL(`**/instances/${instanceId}?tab=settings`);
    await instanceCard.getByRole("button", { name: "Remove" }).click();
    await page.getByRole("dialog", { name: "Remove the monthly budget?" }).getByRole("button", { name: "Remove budget" }).click();
    await seen(page.getByRole("status").getByText("Monthly budget removed from llama-budget."));
    expect(await instanceCard.getByTestId("budget-meter").count()).toBe(0);

    // A member (not an owner) sees the account's budget with a note, and no way to change it or the webhook.
    const member = await newUser(db);
    const { token } = await createInvite(await contextOf(db, user), { role: "member" }, 7);
    await acceptInvite(db, member.userId, token);
    await db.delete(memberships).where(and(eq(memberships.accountId, member.accountId), eq(memberships.userId, member.userId)));
    const memberPage = await signIn(member);
    await openBilling(memberPage);
    const memberCard = memberPage.getByTestId("account-budget");
    await seen(memberCard.getByTestId("budget-read-only"));
    expect(await words(memberCard.getByTestId("budget-percent"))).toBe("25 %");
    expect(await memberCard.getByRole("textbox", { name: "Monthly budget" }).count()).toBe(0);
    expect(await memberCard.getByRole("button").count()).toBe(0);
    expect(await memberPage.getByTestId("webhook-card").getByText("Only the account's owners can change the webhook").isVisible()).toBe(true);
  }, 60_000);

  test("an alert rings the bell; opening it shows the latest, Escape closes it, and Mark all read clears the badge", async () => {
    const { user, instanceId } = await spender();
    await notify(db, jobs, user.accountId, instanceBudgetAlert(instanceId));
    const page = await signIn(user);
    const { details, button, badge, menu } = bell(page);
    await seen(badge);
    expect(await words(badge)).toBe("1");
    expect(await button.getAttribute("aria-label")).toBe("Notifications, 1 unread");

    // A second alert while the page is open: the bell reads the count again when the tab is shown.
    await notify(db, jobs, user.accountId, {
      kind: "runway",
      dedupKey: "runway:2:test",
      severity: "critical",
      title: "Balance runs out in under 1 hour",
      body: "At the current burn of €4.10/h, your balance of €2.05 lasts about 30 min. Top up to keep instances running.",
      data: {},
    });
    await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await page.waitForFunction(() => document.querySelector("[data-testid=unread-badge]")?.textContent?.trim() === "2");
    expect(await button.getAttribute("aria-label")).toBe("Notifications, 2 unread");

    // From the keyboard: the bell opens on Enter, lists the alerts newest first, and Escape closes it.
    await button.focus();
    await page.keyboard.press("Enter");
    await seen(menu);
    const items = menu.getByTestId("notification");
    await seen(items.first());
    expect(await items.count()).toBe(2);
    expect(await words(items.nth(0))).toContain("Balance runs out in under 1 hour");
    expect(await words(items.nth(1))).toContain("'llama-budget' reached 80 % of its monthly budget");
    expect(await words(items.nth(1))).toContain("€12.50 of €15.00 spent in");
    expect(await items.nth(0).getAttribute("data-unread")).toBe("true");
    expect(await menu.getByTestId("unread-dot").count()).toBe(2);
    // A budget alert leads to the instance's budget.
    expect(await items.nth(1).getByRole("link").getAttribute("href")).toBe(`/instances/${instanceId}?tab=settings`);
    await screenshot(page, "spend-bell-1280.png", false);
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "hidden" });
    expect(await details.getAttribute("open")).toBeNull();
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("SUMMARY");

    // Mark all read: the badge goes, the menu stays open with the alerts read.
    await button.click();
    await seen(items.first());
    await menu.getByRole("button", { name: "Mark all read" }).click();
    await badge.waitFor({ state: "detached" });
    expect(await button.getAttribute("aria-label")).toBe("Notifications");
    expect(await menu.isVisible()).toBe(true);
    expect(await menu.getByTestId("unread-dot").count()).toBe(0);
    expect(await menu.getByRole("button", { name: "Mark all read" }).isDisabled()).toBe(true);

    // "All notifications" leads to the page, which lists both.
    await menu.getByRole("link", { name: "All notifications" }).click();
    await page.waitForURL("**/notifications");
    await seen(page.getByRole("heading", { level: 1, name: "Notifications" }));
    expect(await page.getByRole("list", { name: "Notifications" }).getByTestId("notification").count()).toBe(2);
  }, 60_000);

  test("the Notifications page: unread only, mark one and all read, load more, alerts link to their instance", async () => {
    const { user, instanceId } = await spender();
    // 27 alerts, the oldest the instance's budget alert: a page of 25, then two more.
    await notify(db, jobs, user.accountId, instanceBudgetAlert(instanceId));
    for (let n = 1; n <= 26; n++) await notify(db, jobs, user.accountId, plainAlert(n));
    // Read: all but the three newest and the budget alert.
    await db.execute(sql`update notifications set read_at = now()
      where account_id = ${user.accountId} and kind = 'refund' and title not in ('Refund 24', 'Refund 25', 'Refund 26')`);
    const page = await signIn(user);
    expect(await words(bell(page).badge)).toBe("4");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications" }).click();
    await page.waitForURL("**/notifications");
    const list = page.getByRole("list", { name: "Notifications" });
    const rows = list.getByTestId("notification");
    await seen(rows.first());
    expect(await rows.count()).toBe(25);
    expect(await words(rows.first())).toContain("Refund 26");
    await page.getByRole("button", { name: "Load more" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=notification]").length === 27);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    const budgetRow = rows.last();
    expect(await words(budgetRow)).toContain("'llama-budget' reached 80 % of its monthly budget");
    expect(await budgetRow.getByRole("link").getAttribute("href")).toBe(`/instances/${instanceId}?tab=settings`);

    // Unread only: the four, in the URL; marking one read updates the bell at once.
    await page.getByRole("checkbox", { name: "Unread only" }).check();
    await page.waitForURL("**/notifications?unread=1");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=notification]").length === 4);
    await list.getByRole("button", { name: "Mark “Refund 26” read" }).click();
    await page.waitForFunction(() => document.querySelector("[data-testid=unread-badge]")?.textContent?.trim() === "3");
    expect(await rows.first().getAttribute("data-unread")).toBe("false");
    expect(await words(page.getByText("3 unread"))).toBe("3 unread");

    await page.getByRole("main").getByRole("button", { name: "Mark all read" }).click();
    await bell(page).badge.waitFor({ state: "detached" });
    expect(await list.locator("[data-unread=true]").count()).toBe(0);
    await page.reload();
    await seen(page.getByText("Nothing unread"));

    // Following an alert's link leads to its instance.
    await page.getByRole("button", { name: "Show all notifications" }).click();
    await page.waitForURL((url) => url.pathname === "/notifications" && url.search === "");
    await rows.first().waitFor();
    await page.getByRole("button", { name: "Load more" }).click();
    await list.getByRole("link", { name: "'llama-budget' reached 80 % of its monthly budget" }).click();
    await page.waitForURL(`**/instances/${instanceId}?tab=settings`);
    await seen(page.getByTestId("instance-budget"));
  }, 60_000);

  test("the alert webhook: a URL refused then saved, its secret hidden, revealed, rotated, an empty log, then a test delivery", async () => {
    const { user } = await spender();
    await setBudget(await contextOf(db, user), { monthlyCents: 5_000, stopRunning: true });
    const page = await signIn(user);
    await openBilling(page);
    const card = page.getByTestId("webhook-card");
    await seen(card.getByRole("heading", { name: "Alert webhook" }));
    expect(await words(card.getByTestId("webhook-verify"))).toContain("QDZ-Signature: t=…,v1=…");
    expect(await words(card.getByTestId("webhook-verify"))).toContain("stripe.webhooks.constructEvent");
    expect(await card.getByTestId("deliveries-empty").count()).toBe(0);

    // The api's refusal sits under the URL field.
    const url = card.getByLabel("Endpoint URL");
    await url.fill("ftp://example.com/hook");
    await card.getByRole("button", { name: "Save webhook" }).click();
    await seen(card.getByText("Webhook URLs must use http or https."));
    expect(await url.getAttribute("aria-invalid")).toBe("true");
    expect(await words(card.locator(`[id="${await url.getAttribute("aria-describedby")}"]`))).toBe("Webhook URLs must use http or https.");
    expect(await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, user.accountId))).toHaveLength(0);

    await url.fill(RECEIVER);
    await card.getByRole("button", { name: "Save webhook" }).click();
    await seen(page.getByRole("status").getByText("Webhook saved"));
    const [saved] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, user.accountId));
    expect(saved!.url).toBe(RECEIVER);
    expect(saved!.enabled).toBe(true);

    // The secret: hidden until revealed, then exactly the stored one.
    const secret = card.getByTestId("webhook-secret");
    expect(await words(secret)).toMatch(/^whsec_•+$/);
    expect(await page.content()).not.toContain(saved!.secret);
    await card.getByRole("button", { name: "Reveal secret" }).click();
    expect(await words(secret)).toBe(saved!.secret);
    expect(await seen(card.getByRole("button", { name: "Copy secret" }))).toBe(true);
    expect(await words(card.getByTestId("deliveries-empty"))).toContain("No deliveries yet");
    expect(await card.getByRole("checkbox", { name: "Enabled" }).isChecked()).toBe(true);
    await fitsTheWidth(page, 1280);
    await card.getByRole("button", { name: "Hide secret" }).click();
    await screenshot(page, "spend-billing-1280.png");

    // Rotating, after a confirmation: a new secret, shown.
    await card.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByRole("dialog", { name: "Rotate the signing secret?" }).getByRole("button", { name: "Rotate secret" }).click();
    await seen(page.getByRole("status").getByText("New signing secret"));
    const [rotated] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, user.accountId));
    expect(rotated!.secret).not.toBe(saved!.secret);
    expect(await words(secret)).toBe(rotated!.secret);

    const jobsBeforeTest = sentJobs.length;
    // A test: queued for delivery (this queue sends nothing, so it stays pending) and listed at once.
    await card.getByRole("button", { name: "Send test" }).click();
    const delivery = card.getByTestId("delivery-row");
    await seen(delivery);
    expect(await words(delivery)).toContain("alert.webhook_test");
    expect(await words(delivery.getByTestId("delivery-status"))).toBe("Pending");
    expect(sentJobs.slice(jobsBeforeTest)).toEqual(["webhooks.deliver"]);

    // Paused: the toggle saves at once, and a test is not offered.
    await card.getByRole("checkbox").uncheck();
    await seen(page.getByRole("status").getByText("Webhook paused"));
    expect(await card.getByRole("button", { name: "Send test" }).isDisabled()).toBe(true);
    const [paused] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, user.accountId));
    expect(paused!.enabled).toBe(false);
  }, 60_000);

  test("on a phone (375 px), Billing with budgets and a webhook, the bell and the Notifications page fit without scrolling sideways", async () => {
    const { user, instanceId } = await spender();
    const ctx = await contextOf(db, user);
    await setBudget(ctx, { monthlyCents: 1_500, stopRunning: false });
    await setBudget(ctx, { instanceId, monthlyCents: 2_000 });
    await setEndpoint(ctx, { url: RECEIVER }, webhookUrlPolicy(config));
    await notify(db, jobs, user.accountId, instanceBudgetAlert(instanceId));

    const page = await signIn(user, PHONE);
    await page.goto(`${origin}/billing`);
    const card = page.getByTestId("account-budget");
    await seen(card.getByTestId("budget-meter"));
    expect(await words(card.getByTestId("budget-percent"))).toBe("83 %");
    await seen(page.getByTestId("delivery-row"));
    await fitsTheWidth(page, PHONE.width);
    for (const part of [card, page.getByTestId("instance-budget-row"), page.getByTestId("webhook-card")]) {
      const box = (await part.first().boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    }
    await screenshot(page, "spend-billing-375.png");

    // The bell's menu spans the screen, inside it.
    const { button, menu } = bell(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await button.click();
    await seen(menu.getByTestId("notification").first());
    const box = (await menu.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await fitsTheWidth(page, PHONE.width);
    await page.keyboard.press("Escape");

    await page.goto(`${origin}/notifications`);
    await seen(page.getByTestId("notification").first());
    await fitsTheWidth(page, PHONE.width);
    await page.goto(`${origin}/instances/${instanceId}?tab=settings`);
    await seen(page.getByTestId("instance-budget").getByTestId("budget-meter"));
    await fitsTheWidth(page, PHONE.width);
  }, 60_000);
});
