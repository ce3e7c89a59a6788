/**
 * An instance's Schedule tab in a real browser (Debian's chromium through playwright-core) against the real api
 * on a fresh database: a rule refused then previewed live and added, a preset's two rules, disabling, editing and
 * deleting, and the execution history with its paging. No workers run here: due rules are fired with the domain's
 * `fireDueRules` and a stub action, so each outcome and its detail are the test's own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import type { Locator, Page } from "playwright-core";
import { scheduleRules } from "../../db/schema";
import { createApp, webBuildDir } from "../../server/app";
import { loadConfig, projectRoot } from "../../src/config";
import { type ActionResult, fireDueRules } from "../../src/schedules/fire";
import { createRules } from "../../src/schedules/rules";
import { canonicalTimeZone } from "../../src/usage/time-zone";
import { browserForFile, seen, signInInBrowser } from "../support/browser";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { contextOf, insertInstanceRow, newUser, type TestUser } from "../support/factories";

// As browser-spend.test.ts starts its server, keeping the database for the domain's verbs.
if (!existsSync(join(webBuildDir, "200.html"))) throw new Error("The web app is not built: run `bun src/platform/web-build.ts` first.");
const { db } = await freshDatabase();
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const app = createApp({ db, config: loadConfig({ PORT: String(port), PUBLIC_URL: origin }) }).listen({ port, hostname: "127.0.0.1" });
const { newPage } = browserForFile();

const ARTIFACTS = join(projectRoot, "tests", "artifacts");
const PHONE = { width: 375, height: 740 };
const CATCH_UP_SECONDS = 600;
const REFUSED = "Not enough balance to start: top up at least €5.00.";

beforeAll(() => {
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await app.stop(true);
});

/** An element's text as read: its words, single-spaced. */
const words = async (locator: Locator) => (await locator.first().textContent())?.trim().replace(/\s+/g, " ") ?? "";

/** A person whose account has a stopped instance, `llama-nightly`. */
async function owner(): Promise<{ user: TestUser; instanceId: string }> {
  const user = await newUser(db);
  const instanceId = await insertInstanceRow(db, { accountId: user.accountId, name: "llama-nightly", state: "stopped" });
  return { user, instanceId };
}

async function signIn(user: TestUser, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await newPage(viewport);
  await signInInBrowser(page, origin, user);
  return page;
}

async function openSchedule(page: Page, instanceId: string) {
  await page.goto(`${origin}/instances/${instanceId}?tab=schedule`);
  await seen(page.getByTestId("schedule-tab"));
}

/** The browser's zone, as the api spells it once canonicalised: what the form defaults to and presets use. */
async function viewerZone(page: Page): Promise<string> {
  return canonicalTimeZone(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone))!;
}

/** The message under a field, found through its aria-describedby, as a screen reader finds it. */
async function messageOf(page: Page, field: Locator): Promise<string> {
  expect(await field.getAttribute("aria-invalid")).toBe("true");
  return words(page.locator(`[id="${await field.getAttribute("aria-describedby")}"]`));
}

async function fitsTheWidth(page: Page, width: number) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
}

/** A whole-page screenshot for reviewers, only with QDZ_SCREENSHOTS=1. */
async function screenshot(page: Page, name: string) {
  if (process.env.QDZ_SCREENSHOTS !== "1") return;
  await page.mouse.move(0, 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true, animations: "disabled" });
}

/** Makes `ruleId` due `secondsAgo` seconds ago and runs the scheduler once with an action that answers `result`. */
async function fireOnce(ruleId: string, secondsAgo: number, result: ActionResult) {
  await db.execute(sql`update schedule_rules set next_run_at = now() - make_interval(secs => ${secondsAgo}) where id = ${ruleId}`);
  return fireDueRules(db, async () => result, { catchUpSeconds: CATCH_UP_SECONDS });
}

const rulesOf = (instanceId: string) => db.select().from(scheduleRules).where(eq(scheduleRules.instanceId, instanceId));
const ruleRow = async (id: string) => (await db.select().from(scheduleRules).where(eq(scheduleRules.id, id)))[0];
/** A rule in the list, by its id: rules made together (a preset) share a creation time, so their order is not theirs to keep. */
const ruleItem = (page: Page, id: string) => page.locator(`[data-testid="schedule-rule"][data-rule-id="${id}"]`);

describe("the Schedule tab in the browser", () => {
  test("a rule refused, fixed with a live preview and added; a preset's two rules; disable, edit and delete", async () => {
    const { user, instanceId } = await owner();
    const page = await signIn(user);
    await openSchedule(page, instanceId);
    expect(await page.getByRole("tab", { name: "Schedule" }).getAttribute("aria-selected")).toBe("true");
    await seen(page.getByTestId("rules-empty"));
    await seen(page.getByTestId("history-empty"));
    expect(await words(page.getByTestId("schedule-help"))).toContain("never fired in a burst");

    const form = page.getByTestId("add-rule");
    const cron = form.getByRole("textbox", { name: "Cron expression" });
    // A field with suggestions (a datalist) is a combobox.
    const zone = form.getByRole("combobox", { name: "Time zone" });
    const preview = form.getByTestId("rule-preview");
    const zoneHere = await viewerZone(page);
    expect(await zone.inputValue()).toBe(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));

    // The preview names what is wrong, under the field it is about, while typing.
    await cron.fill("61 8 * * *");
    await seen(form.getByText("Minute 61 is out of range (0–59)."));
    expect(await messageOf(page, cron)).toBe("Minute 61 is out of range (0–59).");
    await cron.fill("0 8 * * 1-5");
    await zone.fill("Europe/Berln");
    await seen(form.getByText("did you mean Europe/Berlin?"));
    expect(await messageOf(page, zone)).toBe("Europe/Berln is not a time zone; did you mean Europe/Berlin?");
    expect(await cron.getAttribute("aria-invalid")).toBeNull();

    // Fixed: the rule in words and its next three runs on Berlin's clock.
    await zone.fill("Europe/Berlin");
    await seen(preview.getByText("At 08:00, Monday through Friday"));
    expect(await zone.getAttribute("aria-invalid")).toBeNull();
    const previewRuns = preview.getByTestId("next-run");
    expect(await previewRuns.count()).toBe(3);
    for (const run of await previewRuns.all()) expect(await words(run.locator("time").first())).toMatch(/^(Mon|Tue|Wed|Thu|Fri) \d{1,2} \w{3}, 08:00$/);
    expect(await words(preview.locator("thead"))).toContain("Next runs · Europe/Berlin");

    await form.getByRole("textbox", { name: "Note" }).fill("Office hours");
    await form.getByRole("button", { name: "Add rule" }).click();
    await seen(page.getByRole("status").getByText("Start rule added: At 08:00, Monday through Friday, Europe/Berlin."));
    const rules = page.getByTestId("schedule-rule");
    await seen(rules.first());
    expect(await rules.count()).toBe(1);
    const berlin = rules.nth(0);
    expect(await words(berlin.getByTestId("rule-description"))).toBe("At 08:00, Monday through Friday · Europe/Berlin");
    expect(await words(berlin.getByTestId("rule-action"))).toBe("start");
    expect(await words(berlin)).toContain("0 8 * * 1-5 · Office hours");
    expect(await berlin.getByTestId("next-run").count()).toBe(3);
    expect(await words(berlin.getByTestId("last-execution"))).toBe("Has not run yet.");
    // The form starts again, in the viewer's zone.
    expect(await cron.inputValue()).toBe("");
    expect(await zone.inputValue()).toBe(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
    const [saved] = await rulesOf(instanceId);
    expect(saved).toMatchObject({ action: "start", cron: "0 8 * * 1-5", timeZone: "Europe/Berlin", enabled: true, note: "Office hours" });
    expect(saved!.nextRunAt).not.toBeNull();

    // A preset: shown in words before it is made, then a stop and a start rule in the viewer's zone.
    await page.getByRole("button", { name: "Use Nights off" }).click();
    const dialog = page.getByRole("dialog", { name: "Nights off" });
    await seen(dialog.getByText(`At 22:00 · ${zoneHere}`));
    await seen(dialog.getByText(`At 07:00 · ${zoneHere}`));
    expect(await dialog.getByTestId("preset-rule").count()).toBe(2);
    await dialog.getByRole("button", { name: "Add 2 rules" }).click();
    await seen(page.getByRole("status").getByText(`Nights off: 2 rules added, in ${zoneHere}.`));
    expect(await rules.count()).toBe(3);
    const stored = await rulesOf(instanceId);
    const nightStop = stored.find((r) => r.cron === "0 22 * * *")!;
    const morningStart = stored.find((r) => r.cron === "0 7 * * *")!;
    expect([nightStop, morningStart].map((r) => [r.action, r.timeZone, r.note])).toEqual([
      ["stop", zoneHere, "Nights off"],
      ["start", zoneHere, "Nights off"],
    ]);
    const nightly = ruleItem(page, nightStop.id);
    expect(await words(nightly.getByTestId("rule-description"))).toBe(`At 22:00 · ${zoneHere}`);
    expect(await words(nightly.getByTestId("rule-action"))).toBe("stop");
    expect(await words(ruleItem(page, morningStart.id).getByTestId("rule-description"))).toBe(`At 07:00 · ${zoneHere}`);

    // Disabled: no next runs, and none stored; enabled again, they are back.
    const toggle = berlin.getByRole("checkbox", { name: "Enabled" });
    await toggle.uncheck();
    await seen(page.getByRole("status").getByText("Rule disabled"));
    await seen(berlin.getByTestId("rule-disabled"));
    expect(await berlin.getByTestId("next-run").count()).toBe(0);
    expect(await ruleRow(saved!.id)).toMatchObject({ enabled: false, nextRunAt: null });
    await page.reload();
    await seen(berlin.getByTestId("rule-disabled"));
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await seen(berlin.getByTestId("next-run").first());
    expect(await berlin.getByTestId("next-run").count()).toBe(3);

    // Edited in place, with the same live preview.
    await nightly.getByRole("button", { name: "Edit" }).click();
    const editCron = nightly.getByRole("textbox", { name: "Cron expression" });
    expect(await editCron.inputValue()).toBe("0 22 * * *");
    await editCron.fill("30 21 * * *");
    await seen(nightly.getByTestId("rule-preview").getByText("At 21:30"));
    await nightly.getByRole("button", { name: "Save rule" }).click();
    await seen(nightly.getByTestId("rule-description").getByText(`At 21:30 · ${zoneHere}`));
    expect(await ruleRow(nightStop.id)).toMatchObject({ cron: "30 21 * * *", action: "stop" });

    // Deleted after a confirmation.
    await ruleItem(page, morningStart.id).getByRole("button", { name: "Delete" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete this rule?" });
    expect(await words(confirm)).toContain(`Start: At 07:00 · ${zoneHere} is deleted`);
    await confirm.getByRole("button", { name: "Delete rule" }).click();
    await seen(page.getByRole("status").getByText("Rule deleted."));
    expect(await rules.count()).toBe(2);
    expect(await rulesOf(instanceId)).toHaveLength(2);
    await fitsTheWidth(page, 1280);
  }, 60_000);

  test("the history: each run's outcome and detail, the last one on its rule, older runs on Load more; it fits a phone", async () => {
    const { user, instanceId } = await owner();
    const [start, stop] = await createRules(await contextOf(db, user), instanceId, [
      { action: "start", cron: "0 8 * * 1-5", timeZone: "Europe/Berlin" },
      { action: "stop", cron: "*/15 * * * *", timeZone: "America/New_York", note: "every quarter hour" },
    ]);
    // The stop rule: missed (due two hours ago, past the catch-up window), then skipped ten times; then the start rule refused.
    expect((await fireOnce(stop!.id, 7_200, { outcome: "succeeded", detail: null })).missed).toBe(1);
    for (let i = 0; i < 10; i++)
      expect((await fireOnce(stop!.id, 100 - 10 * i, { outcome: "skipped", detail: "The instance is already stopped." })).skipped).toBe(1);
    expect((await fireOnce(start!.id, 5, { outcome: "failed", detail: REFUSED })).failed).toBe(1);

    const page = await signIn(user);
    await openSchedule(page, instanceId);
    const rows = page.getByTestId("execution-row");
    await seen(rows.first());
    expect(await rows.count()).toBe(10);
    const newest = rows.first();
    expect(await newest.getAttribute("data-outcome")).toBe("failed");
    expect(await words(newest.getByTestId("execution-outcome"))).toBe("failed");
    expect(await words(newest.getByTestId("execution-detail"))).toBe(REFUSED);
    expect(await words(newest)).toContain("Europe/Berlin");
    expect(await words(newest)).toContain("0 8 * * 1-5");
    expect(await words(newest)).toContain("start");
    expect(await words(rows.nth(1).getByTestId("execution-outcome"))).toBe("skipped");
    expect(await words(rows.nth(1).getByTestId("execution-detail"))).toBe("The instance is already stopped.");
    expect(await words(rows.nth(1))).toContain("America/New_York");

    // Each rule shows its own last run inline.
    expect(await words(ruleItem(page, start!.id).getByTestId("last-outcome"))).toBe("failed");
    expect(await words(ruleItem(page, start!.id).getByTestId("last-detail"))).toBe(REFUSED);
    expect(await words(ruleItem(page, stop!.id).getByTestId("last-outcome"))).toBe("skipped");

    await page.getByRole("button", { name: "Load more" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=execution-row]").length === 12);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    expect(await words(rows.last().getByTestId("execution-outcome"))).toBe("missed");
    expect(await words(rows.last().getByTestId("execution-detail"))).toContain("the catch-up window is 10 min");
    await fitsTheWidth(page, 1280);
    await screenshot(page, "schedules-tab-1280.png");

    // A phone: the rules, the form's preview and the history fit without scrolling sideways.
    const phone = await signIn(user, PHONE);
    await openSchedule(phone, instanceId);
    await seen(phone.getByTestId("execution-row").first());
    await seen(phone.getByTestId("schedule-rule").first().getByTestId("next-run").first());
    await phone.getByTestId("add-rule").getByRole("textbox", { name: "Cron expression" }).fill("0 8 * * 1-5");
    await phone.getByTestId("add-rule").getByRole("combobox", { name: "Time zone" }).fill("Asia/Kolkata");
    await seen(phone.getByTestId("rule-preview").getByText("At 08:00, Monday through Friday"));
    await fitsTheWidth(phone, PHONE.width);
    for (const part of [phone.getByTestId("schedule-rule").first(), phone.getByTestId("add-rule"), phone.getByTestId("execution-row").first()]) {
      const box = (await part.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    }
    await screenshot(phone, "schedules-tab-375.png");
  }, 60_000);
});
