/**
 * The Account page's Activity card in a real browser against the real api on a fresh database: newest first,
 * filtered by actor and by kind, paged with Load more, readable on a laptop and a phone; a member sees only
 * their own actions. The changes are made through the domain's verbs, as the api makes them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Locator } from "playwright-core";
import { createApp, webBuildDir } from "../../server/app";
import { acceptInvite, createInvite } from "../../src/accounts/invites";
import { createApiKey } from "../../src/api-keys/keys";
import { loadConfig, projectRoot } from "../../src/config";
import { createFirewall } from "../../src/firewall/create";
import { noJobQueue } from "../../src/jobs/queue";
import { browserForFile, seen, signInInBrowser } from "../support/browser";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { contextOf, newUser } from "../support/factories";

if (!existsSync(join(webBuildDir, "200.html"))) throw new Error("The web app is not built: run `bun src/platform/web-build.ts` first.");
const { db } = await freshDatabase();
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const config = loadConfig({ PORT: String(port), PUBLIC_URL: origin });
const app = createApp({ db, config, jobs: noJobQueue }).listen({ port, hostname: "127.0.0.1" });
const { newPage } = browserForFile();
const ARTIFACTS = join(projectRoot, "tests", "artifacts");

beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));
afterAll(async () => {
  await app.stop(true);
});

/** Waits until the list shows `n` rows (after a filter or a page), failing with the count seen. */
async function countIs(rows: Locator, n: number) {
  const deadline = Date.now() + 10_000;
  while ((await rows.count()) !== n) {
    if (Date.now() > deadline)
      throw new Error(
        `expected ${n} rows, saw ${await rows.count()}: ${await rows.evaluateAll((found) => found.map((row) => row.getAttribute("data-kind")).join(" "))}`,
      );
    await Bun.sleep(50);
  }
}

describe("the Activity card", () => {
  test("lists the account's changes newest first, filters by actor and kind, pages, and fits 1280 px and 390 px", async () => {
    const owner = await newUser(db);
    const ownerCtx = await contextOf(db, owner);
    const { key } = await createApiKey(ownerCtx, { name: "deploy bot", scope: "full" });
    for (let i = 1; i <= 22; i++) await createFirewall(ownerCtx, { name: `guard-${i}` });
    const member = await newUser(db);
    const { token } = await createInvite(ownerCtx, { role: "member" }, 7);
    await acceptInvite(db, member.userId, token);
    const memberCtx = { ...(await contextOf(db, member)), accountId: owner.accountId, role: "member" as const };
    await createFirewall(memberCtx, { name: "member-guard" });

    const page = await newPage();
    await signInInBrowser(page, origin, owner);
    await page.goto(`${origin}/account`);
    const rows = page.getByTestId("activity-row");
    await seen(rows.first());
    // Newest first: this sign-in, the member's firewall, their joining; 20 to a page.
    expect(await rows.count()).toBe(20);
    expect(await rows.nth(0).getAttribute("data-kind")).toBe("session.signed_in");
    expect(await rows.nth(1).getAttribute("data-kind")).toBe("firewall.created");
    expect(await rows.nth(1).textContent()).toContain(member.email);
    expect(await rows.nth(2).getAttribute("data-kind")).toBe("member.joined");
    expect(await rows.nth(3).getAttribute("data-kind")).toBe("member.invited");
    await page.getByTestId("activity-row").first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "audit-account-1280.png"), fullPage: true });

    await page.getByRole("button", { name: "Load more" }).click();
    // Signed up, the key, 22 firewalls, the invite, the member joining and their firewall, this sign-in.
    await countIs(rows, 28);
    expect(await rows.nth(27).getAttribute("data-kind")).toBe("account.signed_up");

    await page.getByTestId("activity-kind").selectOption("api_key");
    await countIs(rows, 1);
    expect(await rows.first().textContent()).toContain(key.prefix);
    expect(await rows.first().textContent()).toContain("scope: full");

    await page.getByTestId("activity-kind").selectOption("");
    await page.getByTestId("activity-actor").selectOption(member.email);
    await countIs(rows, 2);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);

    // A phone: the table fits without sideways scrolling, who acted moves under what.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId("activity-actor").selectOption("");
    await countIs(rows, 20);
    const inline = page.getByTestId("activity-actor-inline").first();
    expect(await inline.isVisible()).toBe(true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, "audit-account-390.png"), fullPage: true });
  }, 60_000);

  test("a member sees only their own actions", async () => {
    const owner = await newUser(db);
    const ownerCtx = await contextOf(db, owner);
    await createFirewall(ownerCtx, { name: "owner-guard" });
    const member = await newUser(db);
    const { token } = await createInvite(ownerCtx, { role: "member" }, 7);
    await acceptInvite(db, member.userId, token);

    const page = await newPage();
    await signInInBrowser(page, origin, member);
    // Signing in lands in the member's own account: switch to the one they joined, as the account switcher does.
    const switched = await page.evaluate(async (accountId) => {
      const response = await fetch("/trpc/auth.switchAccount", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ accountId }),
      });
      return response.status;
    }, owner.accountId);
    expect(switched).toBe(200);
    await page.goto(`${origin}/account`);
    await seen(page.getByText("What you and your API keys changed in this account"));
    const rows = page.getByTestId("activity-row");
    await seen(rows.first());
    // Their joining; never the owner's firewall (their sign-in was in their own account).
    const kinds = await rows.evaluateAll((found) => found.map((row) => row.getAttribute("data-kind")));
    expect(kinds).toContain("member.joined");
    expect(kinds).not.toContain("firewall.created");
    expect(await page.getByRole("table", { name: "Activity" }).getByText(owner.email).count()).toBe(0);
  }, 60_000);
});
