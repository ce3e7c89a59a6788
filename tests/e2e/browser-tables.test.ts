/**
 * Tables at a laptop's width (1280×800) and a phone's (390×844): long names
 * are cut with their whole text in a tooltip, no table is wider than its card,
 * and every row's actions stay on screen (the instances' behind an "Actions
 * for …" menu). Also what Stop asks before it wipes a pod's disk, from a row,
 * the bulk bar and an instance's page. Bare rows from the factories: nothing
 * here needs a pod, and nothing is confirmed (browser-instances stops real ones).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Locator, Page } from "playwright-core";
import { instances } from "../../db/schema";
import { projectRoot } from "../../src/config";
import { browserForFile, seen, startWebServer } from "../support/browser";
import { insertInstanceRow, newApiKey, newUser } from "../support/factories";

const server = await startWebServer();
const { db, url: origin } = server;
const { newPage } = browserForFile();

const user = await newUser(db);
// As long as the forms allow, in one unbroken word where that is possible: the worst case for a table.
const LONG_NAME = `embeddings-${"x".repeat(52)}-prod`;
const LONG_KEY = `production-backend-${"k".repeat(61)}`;
const running = await insertInstanceRow(db, {
  accountId: user.accountId,
  name: LONG_NAME,
  servingName: `${"s".repeat(55)}-serving`,
  hfRepo: `Qwen/${"Q".repeat(60)}-Embedding`,
  task: "embeddings",
  rateCentsPerHour: 79,
  gpuType: "L4",
});
const second = await insertInstanceRow(db, {
  accountId: user.accountId,
  name: "second-running",
  servingName: "second",
  hfRepo: "Qwen/Qwen2.5-0.5B-Instruct",
  task: "chat",
});
await insertInstanceRow(db, {
  accountId: user.accountId,
  name: "a-failed-one",
  state: "failed",
  failureReason: "no offer matches the constraints (GPU L4 is not among the preferences; GPU L40S is not among the preferences)",
});
await insertInstanceRow(db, { accountId: user.accountId, name: "a-stopped-one", state: "stopped" });
await newApiKey(db, user, { name: LONG_KEY });
await newApiKey(db, user, { name: "ci" });

// The two the issue names, and the widths where the layout changes: the sidebar appears at 1024, the instances table at 1280.
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 768 },
  { width: 768, height: 1024 },
  { width: 390, height: 844 },
];

async function signedIn(viewport: { width: number; height: number }): Promise<Page> {
  const page = await newPage(viewport);
  await page.context().addCookies([{ name: "qdz_session", value: user.sessionToken, url: origin, httpOnly: true, sameSite: "Lax" }]);
  return page;
}

/** Every card and scroll container on the page, and the page itself, wider inside than it shows; and every table wider than its box. */
function overflowing(page: Page) {
  return page.evaluate(() => {
    const describe = (box: Element, inner: number, outer: number) =>
      `${box.tagName.toLowerCase()}.${box.className.split(" ").slice(0, 3).join(".")}: ${inner} > ${outer}`;
    const boxes = [document.documentElement, ...document.querySelectorAll<HTMLElement>("main .surface, main .overflow-x-auto")];
    const tables = [...document.querySelectorAll<HTMLElement>("main table")];
    return [
      ...boxes.filter((box) => box.scrollWidth > box.clientWidth).map((box) => describe(box, box.scrollWidth, box.clientWidth)),
      ...tables
        .filter((table) => table.offsetWidth > table.parentElement!.clientWidth)
        .map((table) => describe(table, table.offsetWidth, table.parentElement!.clientWidth)),
    ];
  });
}

/** The element is on screen: not clipped by the window's edges (below the fold is fine for what sits in the page). */
async function inView(page: Page, locator: Locator, fixed = false) {
  await seen(locator);
  const box = (await locator.boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
  if (fixed) expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
}

const row = (page: Page, name: string) => page.getByTestId("instance-row").filter({ has: page.getByRole("link", { name, exact: true }) });

describe("tables fit the screen", () => {
  for (const size of SIZES) {
    test(`instances at ${size.width}×${size.height}: no overflow, long names cut with a tooltip, actions reachable`, async () => {
      const page = await signedIn(size);
      await page.goto(`${origin}/instances`);
      const long = row(page, LONG_NAME);
      await seen(long);
      expect(await overflowing(page)).toEqual([]);

      const link = long.getByRole("link", { name: LONG_NAME, exact: true });
      expect(await link.getAttribute("title")).toBe(LONG_NAME);
      // Cut, not wrapped: the link is narrower than its text.
      expect(await link.evaluate((a) => a.scrollWidth > a.clientWidth)).toBe(true);

      await inView(page, long.getByRole("button", { name: `Stop ${LONG_NAME}` }));
      await inView(page, row(page, "a-stopped-one").getByRole("button", { name: "Start a-stopped-one" }));
      const menuButton = long.getByRole("button", { name: `Actions for ${LONG_NAME}` });
      await inView(page, menuButton);
      await menuButton.click();
      const menu = page.getByRole("list", { name: `Actions for ${LONG_NAME}` });
      // The menu floats over the page: all of it must be within the window.
      await inView(page, menu.getByRole("button", { name: `Delete ${LONG_NAME}` }), true);
      await inView(page, menu.getByRole("link", { name: `Settings for ${LONG_NAME}` }), true);
      await inView(page, menu.getByRole("button", { name: `Playground for ${LONG_NAME}` }), true);
      // The last row's menu opens over the card's edge instead of being cut by it: its Delete is what a click there hits.
      const remove = menu.getByRole("button", { name: `Delete ${LONG_NAME}` });
      const hit = await remove.evaluate((button) => {
        const box = button.getBoundingClientRect();
        return button.contains(document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2));
      });
      expect(hit).toBe(true);
      await remove.click();
      const confirm = page.getByRole("dialog", { name: "Delete instance" });
      await seen(confirm.getByText(LONG_NAME));
      await confirm.getByRole("button", { name: "Cancel" }).click();
      await confirm.waitFor({ state: "hidden" });

      if (size.width === 1280 && process.env.QDZ_SCREENSHOTS === "1") {
        const artifacts = join(projectRoot, "tests", "artifacts");
        mkdirSync(artifacts, { recursive: true });
        await page.mouse.move(0, 0);
        await page.screenshot({ path: join(artifacts, "instances-table-1280.png"), fullPage: true });
      }
    }, 30_000);

    test(`API keys at ${size.width}×${size.height}: an 80-character name leaves Status and Revoke on screen`, async () => {
      const page = await signedIn(size);
      await page.goto(`${origin}/api-keys`);
      const long = page.getByRole("row").filter({ hasText: LONG_KEY });
      await seen(long);
      expect(await overflowing(page)).toEqual([]);
      expect(await long.getByText(LONG_KEY, { exact: true }).getAttribute("title")).toBe(LONG_KEY);
      await inView(page, long.getByText("active", { exact: true }));
      await inView(page, long.getByRole("button", { name: `Revoke ${LONG_KEY}` }));
    }, 30_000);
  }
});

describe("Stop asks first, saying what is lost", () => {
  const LOST = "The pod's disk is wiped; the model is downloaded again at the next start.";

  test("from a row, and from the bulk bar listing the live instances it will stop", async () => {
    const page = await signedIn({ width: 1280, height: 800 });
    await page.goto(`${origin}/instances`);
    await row(page, "second-running").getByRole("button", { name: "Stop second-running" }).click();
    const one = page.getByRole("dialog", { name: "Stop instance" });
    await seen(one.getByText("second-running"));
    await seen(one.getByText(LOST, { exact: false }));
    expect(await one.getByText(/Billing stops now/).isVisible()).toBe(true);
    await one.getByRole("button", { name: "Cancel" }).click();
    await one.waitFor({ state: "hidden" });

    await page.getByRole("checkbox", { name: "Select all instances" }).check();
    await page.getByRole("toolbar", { name: "Bulk actions" }).getByRole("button", { name: "Stop selected" }).click();
    const many = page.getByRole("dialog", { name: "Stop 2 instances" });
    const listed = many.getByTestId("stop-list").getByRole("listitem");
    await seen(listed.first());
    const names = await listed.allTextContents();
    expect(names).toHaveLength(2);
    expect(names.join("\n")).toContain(LONG_NAME);
    expect(names.join("\n")).toContain("second-running");
    expect(await many.getByText("2 other selected instances are not live and are left as they are.").isVisible()).toBe(true);
    expect(await many.getByText(LOST, { exact: false }).isVisible()).toBe(true);
    await many.getByRole("button", { name: "Cancel" }).click();
    await many.waitFor({ state: "hidden" });

    // Cancelled: nothing changed.
    const states = await db.select({ state: instances.state }).from(instances).where(eq(instances.id, second));
    expect(states[0]!.state).toBe("running");
  }, 30_000);

  test("from an instance's page", async () => {
    const page = await signedIn({ width: 1280, height: 800 });
    await page.goto(`${origin}/instances/${running}`);
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Stop instance" });
    await seen(dialog.getByText(LOST, { exact: false }));
    expect(await dialog.getByText(LONG_NAME).isVisible()).toBe(true);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    const [row] = await db.select({ state: instances.state }).from(instances).where(eq(instances.id, running));
    expect(row!.state).toBe("running");
  }, 30_000);
});
