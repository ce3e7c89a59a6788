/**
 * Usage in a real browser (Debian's chromium through playwright-core) against the whole compute side in
 * this process (`startCompute()`: the api serving the web app, pg-boss workers, the local provider's real
 * pods). An instance runs a real pod (its sidecar's samples feed the resource charts), then earlier runs
 * and two other instances are billed through metering's own settlement: every number on screen, in the
 * tooltip and in the CSV must agree with the ledger to the cent. Screenshots for reviewers land in
 * tests/artifacts/.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Locator, Page } from "playwright-core";
import { projectRoot } from "../../src/config";
import { beginRun } from "../../src/instances/runs";
import { settleRun } from "../../src/metering/settle";
import { browserForFile, requireWebBuild, seen, signInInBrowser } from "../support/browser";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { insertInstanceRow } from "../support/factories";

requireWebBuild();
const compute = await startCompute();
const { db } = compute;
const origin = compute.url;
const { newPage } = browserForFile();

const ARTIFACTS = join(projectRoot, "tests", "artifacts");
/** The viewer's zone for every page here: buckets, labels and the CSV's times follow it. */
const TIME_ZONE = "Europe/Paris";
const PHONE = { width: 375, height: 740 };

const eur = new Intl.NumberFormat("en-IE", { style: "currency", currency: "EUR" });
/** As the web app writes money: from integer cents, exactly. */
const formatEur = (cents: number) => eur.format(`${cents}e-2` as Intl.StringNumericLiteral);

interface History {
  email: string;
  password: string;
  accountId: string;
  /** The instance that ran a real pod, then had an earlier two-hour run settled. */
  chat: string;
  embedder: string;
  flaky: string;
}

let history: History;

/** What the ledger holds for one instance (or the account): debited and refunded, positive cents. */
async function ledgerTotals(where: { instanceId?: string; accountId?: string }) {
  const filter = where.instanceId ? sql`instance_id = ${where.instanceId}` : sql`account_id = ${where.accountId}`;
  const [row] = await db.execute<{ debited: string; refunded: string }>(sql`
    select coalesce(-sum(amount_cents) filter (where kind = 'debit'), 0)::text as debited,
           coalesce(sum(amount_cents) filter (where kind = 'refund'), 0)::text as refunded
    from ledger_entries where ${filter}`);
  return { debited: Number(row!.debited), refunded: Number(row!.refunded) };
}

async function billedSeconds(instanceId: string): Promise<number> {
  const [row] = await db.execute<{ seconds: string }>(
    sql`select coalesce(sum(billed_seconds), 0)::text as seconds from instance_runs where instance_id = ${instanceId}`,
  );
  return Number(row!.seconds);
}

/**
 * A run of `instanceId` that ran `seconds` and ended `endedAgo` seconds ago for `because`, begun by the runs
 * module and settled by metering (its debit, and its refund for an early failure), as the settlement job does.
 */
async function settledRun(instanceId: string, rate: number, seconds: number, endedAgo: number, because: "stopped" | "failed") {
  const runId = await beginRun(db, instanceId);
  await db.execute(sql`
    update instance_runs set rate_cents_per_hour = ${rate},
      running_at = now() - make_interval(secs => ${seconds + endedAgo}),
      last_heartbeat_at = now() - make_interval(secs => ${endedAgo}),
      ended_at = now() - make_interval(secs => ${endedAgo}), ended_because = ${because}
    where id = ${runId}`);
  const settlement = await settleRun(db, runId);
  expect(settlement.settled).toBe(true);
  return settlement;
}

/** A person's account with usage: a real pod that ran and was stopped, plus earlier runs billed by settlement. */
async function makeHistory(): Promise<History> {
  const { user, api } = await compute.fundedUser(100_000);

  // A real pod: launched, running until its sidecar has sent a few samples, stopped, and settled.
  const launched = await api.instances.launch({ ...referenceLaunch, name: "chat-usage" });
  await waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "running",
    30_000,
    "the pod to run",
  );
  await waitFor(
    async () => (await db.execute<{ n: number }>(sql`select count(*)::int as n from resource_samples where instance_id = ${launched.id}`))[0]!.n,
    (n) => n >= 3,
    30_000,
    "three resource samples",
  );
  await api.instances.stop({ id: launched.id });
  await waitFor(
    () => api.instances.metered({ id: launched.id }),
    (m) => m.runs.length > 0 && m.runs.every((run) => run.ended_at !== null && run.settled),
    30_000,
    "the stopped run to be settled",
  );
  const chat = await api.instances.get({ id: launched.id });
  const rate = chat.rateCentsPerHour!;
  // Before it, a two-hour run at the same locked rate, ended an hour ago.
  await settledRun(chat.id, rate, 7_200, 3_600, "stopped");

  // Two more instances, for the account's stacks and its refunds: five hours at €1.30/h, and a pod that failed after 40 s at €360/h.
  const embedder = await insertInstanceRow(db, { accountId: user.accountId, name: "embedder-usage", state: "stopped", rateCentsPerHour: 130 });
  expect((await settledRun(embedder, 130, 18_000, 600, "stopped")).billedCents).toBe(650);
  const flaky = await insertInstanceRow(db, { accountId: user.accountId, name: "flaky-usage", state: "failed", rateCentsPerHour: 36_000 });
  expect(await settledRun(flaky, 36_000, 40, 300, "failed")).toMatchObject({ billedCents: 400, refundedCents: 400 });

  return { email: user.email, password: user.password, accountId: user.accountId, chat: chat.id, embedder, flaky };
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  history = await makeHistory();
}, 120_000);

/** A page in the viewer's zone, signed in as the person whose history this is. */
async function signedIn(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await newPage(viewport);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Emulation.setTimezoneOverride", { timezoneId: TIME_ZONE });
  await signInInBrowser(page, origin, history);
  return page;
}

/** An element's text as read: its words, single-spaced. */
const words = async (locator: Locator) => (await locator.textContent())?.trim().replace(/\s+/g, " ") ?? "";

const text = async (scope: Page | Locator, testId: string) => (await scope.getByTestId(testId).first().textContent())?.trim().replace(/\s+/g, " ");

/** The Cost chart, drawn (its chunk loaded and its bars laid out). */
async function costChart(page: Page): Promise<Locator> {
  const figure = page.getByTestId("usage-cost-chart");
  await seen(figure.locator("svg").first());
  // An empty bucket's bar has no height, so "drawn" is the bars being there, not visible.
  await figure.locator("svg .lc-bars-bar").first().waitFor({ state: "attached" });
  return figure;
}

/** The bar of a bucket still filling: drawn lighter than the finished ones (BucketBars.svelte). */
const PARTIAL_BAR = 'svg .lc-bars-bar[fill-opacity="0.5"]';

/** A chart's accessible name: what it shows, with its total, in one sentence. */
const chartLabel = (figure: Locator) => figure.getByRole("img", { name: /in total/ }).getAttribute("aria-label");

/** Picks a range on the switcher and waits for its buckets to be drawn. */
async function switchRange(page: Page, range: string) {
  await page
    .getByRole("navigation", { name: "Range" })
    .getByRole("link", { name: new RegExp(`^${range}:`) })
    .click();
  await page.waitForURL(`**range=${range}*`);
  await page.locator(`[data-testid="usage-tab"][aria-busy="false"], [data-testid="account-usage"]`).first().waitFor();
  await costChart(page);
}

/** The rows of the Cost chart's table view (opened on the way). */
async function costTableRows(page: Page): Promise<Locator> {
  const figure = page.getByTestId("usage-cost-chart");
  const details = figure.locator("details");
  if ((await details.getAttribute("open")) === null) await figure.getByText("Show as table").click();
  const rows = figure.getByTestId("usage-table").locator("tbody tr");
  await seen(rows.first());
  return rows;
}

/**
 * A whole-page screenshot for reviewers, from the top (the header and the sidebar stick to the viewport), pointer away.
 * The committed ones are rewritten only with QDZ_SCREENSHOTS=1: every run has new emails, dates and ids.
 */
async function screenshot(page: Page, name: string) {
  if (process.env.QDZ_SCREENSHOTS !== "1") return;
  await page.mouse.move(0, 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

/** Folds every table view away again, for a screenshot of the charts. */
async function closeTables(page: Page) {
  const open = page.locator("details[open]");
  while ((await open.count()) > 0) await open.first().locator("summary").click();
}

interface CsvRow {
  [column: string]: string;
}

/** Clicks "Download CSV" and reads the file the browser saved. */
async function downloadCsv(page: Page): Promise<{ fileName: string; header: string[]; rows: CsvRow[] }> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  const body = readFileSync((await download.path())!, "utf8");
  const [head, ...lines] = body.trimEnd().split("\r\n");
  const header = head!.split(",").map((cell) => cell.replace(/^"|"$/g, ""));
  const rows = lines.map((line) => Object.fromEntries(splitCsvLine(line).map((cell, i) => [header[i]!, cell])));
  return { fileName: download.suggestedFilename(), header, rows };
}

function splitCsvLine(line: string): string[] {
  return [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => m[1]!.replace(/^"|"$/g, "").replaceAll('""', '"'));
}

/** Billable time as the cards round it, to the minute: `7215` → `2 h`, `7290` → `2 h 1 min`. */
function hoursMinutes(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours === 0 ? `${minutes} min` : minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

/**
 * Points at a bar as a person would: the pointer over its middle (the chart's tooltip layer lies over the
 * bars, so this is a move, not a click-through). A bar too short to aim at is aimed at from just above.
 */
async function pointAt(page: Page, bar: Locator) {
  await bar.scrollIntoViewIfNeeded();
  const box = (await bar.boundingBox())!;
  // In steps: the chart's tooltip follows the pointer's moves over it, not a jump onto it.
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 - (box.height < 4 ? 4 : 0), { steps: 4 });
}

/** Exact billable time, as tooltips and tables write it: `7215` → `2 h 15 s`. */
function formatDuration(seconds: number): string {
  const parts = [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60];
  return (
    parts
      .map((n, i) => (n > 0 ? `${n} ${["h", "min", "s"][i]}` : ""))
      .filter(Boolean)
      .join(" ") || "0 s"
  );
}

const total = (rows: CsvRow[], column: string) => rows.reduce((sum, row) => sum + Number(row[column]), 0);

/** On the page, and the page does not scroll sideways at this width. */
async function fitsTheWidth(page: Page, width: number) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
  for (const chart of await page.locator("[role=img] svg").all()) {
    const box = await chart.boundingBox();
    if (box) expect(box.x + box.width).toBeLessThanOrEqual(width);
  }
}

describe("usage in the browser", () => {
  test("the Usage tab of an instance that ran: ranges, a bar's exact tooltip, the CSV against the ledger, the pod's resources", async () => {
    const page = await signedIn();
    const ledger = await ledgerTotals({ instanceId: history.chat });
    const seconds = await billedSeconds(history.chat);
    expect(ledger.debited).toBeGreaterThan(0);

    // From the Details tab to Usage: the range defaults to 24h, in the viewer's zone.
    await page.goto(`${origin}/instances/${history.chat}`);
    await seen(page.getByRole("heading", { level: 1, name: "chat-usage" }));
    await page.getByRole("tab", { name: "Usage" }).click();
    await page.waitForURL(/\?tab=usage$/);
    await costChart(page);
    expect(await text(page, "usage-time-zone")).toBe(`Times in ${TIME_ZONE}`);
    expect(await page.getByRole("link", { name: /^24h:/ }).getAttribute("aria-current")).toBe("true");

    // The cards: everything was billed this month and today, refunds apart.
    expect(await text(page, "usage-month-to-date")).toBe(formatEur(ledger.debited));
    expect(await text(page, "usage-refunds")).toBe(formatEur(0));
    expect(await text(page, "usage-average-daily")).toBe(formatEur(ledger.debited));
    expect(await text(page, "usage-days-counted")).toBe("over 1 day");
    expect(await text(page, "usage-active-time")).toBe(hoursMinutes(seconds));

    // Every range: its buckets (24 hours; a day of hours then six days; 30 and 90 days), the same total, nothing lost between bars.
    const bucketCounts: Record<string, (n: number) => boolean> = {
      "7d": (n) => n >= 29 && n <= 31,
      "30d": (n) => n === 30,
      "90d": (n) => n === 90,
      "24h": (n) => n === 24,
    };
    for (const [range, fits] of Object.entries(bucketCounts)) {
      await switchRange(page, range);
      expect(await chartLabel(page.getByTestId("usage-cost-chart"))).toContain(`${formatEur(ledger.debited)} in total`);
      expect(fits(await (await costTableRows(page)).count())).toBe(true);
      expect(await page.getByTestId("usage-cost-chart").getByTestId("usage-table").locator("tfoot").textContent()).toContain(formatEur(ledger.debited));
    }

    // The CSV of the 30 days: one row per day, and its columns add up to the ledger and to the metered seconds.
    await switchRange(page, "30d");
    const csv = await downloadCsv(page);
    expect(csv.fileName).toMatch(/^qdz-usage-chat-usage-30d-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(csv.header).toEqual(["bucket_start", "bucket_end", "cost_cents", "billable_seconds", "refunded_cents"]);
    expect(csv.rows).toHaveLength(30);
    expect(total(csv.rows, "cost_cents")).toBe(ledger.debited);
    expect(total(csv.rows, "refunded_cents")).toBe(ledger.refunded);
    expect(total(csv.rows, "billable_seconds")).toBe(seconds);
    // Local times with the zone's offset, contiguous: each day ends where the next begins.
    expect(csv.rows[0]!.bucket_start).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\+0[12]:00$/);
    for (let i = 1; i < csv.rows.length; i++) expect(csv.rows[i]!.bucket_start).toBe(csv.rows[i - 1]!.bucket_end);

    // Today is still filling: its bar is marked, and hovering it reads that day's exact cost.
    const today = csv.rows.at(-1)!;
    expect(Number(today.cost_cents)).toBeGreaterThan(0);
    const figure = await costChart(page);
    await seen(figure.getByText("Still filling"));
    await pointAt(page, figure.locator(PARTIAL_BAR).first());
    const tooltip = page.getByTestId("usage-tooltip");
    await seen(tooltip);
    expect(await words(tooltip)).toContain(`Cost ${formatEur(Number(today.cost_cents))}`);
    expect(await words(tooltip)).toContain("Today is still filling.");

    // The active time: the same seconds, in hours and minutes and exactly.
    const active = page.getByTestId("usage-active-chart");
    expect(await chartLabel(active)).toContain(`${formatDuration(seconds)} in total`);
    await pointAt(page, active.locator(PARTIAL_BAR).first());
    const activeTooltip = page.getByTestId("usage-tooltip").filter({ hasText: "Billable time" });
    await seen(activeTooltip);
    expect(await words(activeTooltip)).toContain(`Seconds ${new Intl.NumberFormat("en-IE").format(Number(today.billable_seconds))} s`);
    expect(await words(activeTooltip)).toContain(`Billable time ${formatDuration(Number(today.billable_seconds))}`);

    // 24h: the pod's resources from its sidecar; a pod without a GPU says so rather than drawing zeros.
    await switchRange(page, "24h");
    const resources = page.getByTestId("usage-resources");
    for (const signal of ["cpuPercent", "memoryUsedBytes", "diskUsedBytes"]) {
      const panel = resources.getByTestId(`resource-${signal}`);
      await seen(panel.locator("svg.lc-layout-svg"));
      // Its accessible name gives the latest reading the sidecar sent.
      expect(await panel.getByRole("img", { name: /over the last 24 hours/ }).getAttribute("aria-label")).toContain("latest");
    }
    expect(await words(resources.getByTestId("resource-memoryUsedBytes").locator("h3 + span"))).toMatch(/^[\d.,]+ GiB of [\d.,]+ GiB$/);
    if (!Bun.which("nvidia-smi")) {
      for (const signal of ["gpuUtilPercent", "vramUsedBytes", "gpuTemperatureC"]) {
        const panel = resources.getByTestId(`resource-${signal}`);
        expect(await panel.getByText("Not reported").isVisible()).toBe(true);
        expect(await panel.locator("svg").count()).toBe(0);
      }
    }
    await closeTables(page);
    await fitsTheWidth(page, 1280);
    await screenshot(page, "usage-instance-tab-1280.png");
  }, 90_000);

  test("the account Usage page shows the same totals: stacked by instance, the top instances, the month to date, the CSV", async () => {
    const page = await signedIn();
    const account = await ledgerTotals({ accountId: history.accountId });
    const perInstance = {
      chat: await ledgerTotals({ instanceId: history.chat }),
      embedder: await ledgerTotals({ instanceId: history.embedder }),
      flaky: await ledgerTotals({ instanceId: history.flaky }),
    };
    expect(account.refunded).toBe(400);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage" }).click();
    await page.waitForURL("**/usage");
    await seen(page.getByRole("heading", { level: 1, name: "Usage" }));
    const figure = await costChart(page);
    expect(await page.getByRole("link", { name: /^30d:/ }).getAttribute("aria-current")).toBe("true");
    expect(await text(page, "usage-time-zone")).toBe(`Times in ${TIME_ZONE}`);

    expect(await text(page, "usage-month-to-date")).toBe(formatEur(account.debited));
    expect(await text(page, "usage-refunds")).toBe(formatEur(account.refunded));
    expect(await chartLabel(figure)).toContain(`${formatEur(account.debited)} in total`);
    for (const name of ["chat-usage", "embedder-usage", "flaky-usage", "Refunds (credited back)"]) {
      expect(await figure.getByRole("list", { name: "Legend" }).getByText(name).isVisible()).toBe(true);
    }

    // The top instances, highest first, each with what the ledger debited it, linking to its own Usage tab.
    const rows = page.getByTestId("top-instance-row");
    const expected = [
      { name: "embedder-usage", id: history.embedder, cents: perInstance.embedder.debited },
      { name: "flaky-usage", id: history.flaky, cents: perInstance.flaky.debited },
      { name: "chat-usage", id: history.chat, cents: perInstance.chat.debited },
    ].sort((a, b) => b.cents - a.cents);
    expect(await rows.count()).toBe(3);
    for (const [i, instance] of expected.entries()) {
      const row = rows.nth(i);
      expect(await row.getByRole("link").textContent()).toBe(instance.name);
      expect(await row.getByRole("link").getAttribute("href")).toBe(`/instances/${instance.id}?tab=usage&range=30d`);
      expect(await text(row, "top-instance-cost")).toBe(formatEur(instance.cents));
    }

    // The account's CSV: the same five columns, then the cost per instance, each adding up to the ledger.
    const csv = await downloadCsv(page);
    expect(csv.fileName).toMatch(/^qdz-usage-account-30d-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(csv.header.slice(0, 5)).toEqual(["bucket_start", "bucket_end", "cost_cents", "billable_seconds", "refunded_cents"]);
    expect(csv.rows).toHaveLength(30);
    expect(total(csv.rows, "cost_cents")).toBe(account.debited);
    expect(total(csv.rows, "refunded_cents")).toBe(account.refunded);
    for (const instance of expected) expect(total(csv.rows, `cost_cents ${instance.name} (${instance.id})`)).toBe(instance.cents);

    // The stacked bar of today: hovering it reads each instance's part, the total and the refund.
    await pointAt(page, figure.locator(PARTIAL_BAR).first());
    const tooltip = page.getByTestId("usage-tooltip");
    await seen(tooltip);
    const today = csv.rows.at(-1)!;
    expect(await words(tooltip)).toContain(`Total cost ${formatEur(Number(today.cost_cents))}`);
    expect(await words(tooltip)).toContain(`Refunded ${formatEur(Number(today.refunded_cents))}`);

    await switchRange(page, "90d");
    expect(await chartLabel(figure)).toContain(`${formatEur(account.debited)} in total`);
    expect(await (await costTableRows(page)).count()).toBe(90);
    await switchRange(page, "30d");
    await closeTables(page);

    await fitsTheWidth(page, 1280);
    await screenshot(page, "usage-account-1280.png");

    // A top instance leads to its own Usage tab, in the same range.
    await rows.first().getByRole("link").click();
    await page.waitForURL((url) => url.pathname === `/instances/${expected[0]!.id}` && url.search === "?tab=usage&range=30d");
    await costChart(page);
    expect(await text(page, "usage-month-to-date")).toBe(formatEur(expected[0]!.cents));
  }, 60_000);

  test("on a phone (375 px) the Usage tab and the Usage page fit: charts resize, nothing scrolls sideways", async () => {
    const page = await signedIn(PHONE);

    await page.goto(`${origin}/instances/${history.chat}?tab=usage`);
    const figure = await costChart(page);
    await seen(page.getByTestId("usage-resources").getByTestId("resource-cpuPercent").locator("svg.lc-layout-svg"));
    await fitsTheWidth(page, PHONE.width);
    const chart = (await figure.locator("svg").first().boundingBox())!;
    expect(chart.width).toBeGreaterThan(250);
    // The tooltip stays inside the chart, so inside the screen.
    await pointAt(page, figure.locator(PARTIAL_BAR).first());
    const tooltip = page.getByTestId("usage-tooltip");
    await seen(tooltip);
    const box = (await tooltip.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await fitsTheWidth(page, PHONE.width);
    await screenshot(page, "usage-instance-tab-375.png");

    await page.goto(`${origin}/usage`);
    await costChart(page);
    await seen(page.getByTestId("top-instance-row").first());
    await fitsTheWidth(page, PHONE.width);
    // The table view scrolls inside its card, not the page.
    await costTableRows(page);
    await fitsTheWidth(page, PHONE.width);
    await closeTables(page);
    await screenshot(page, "usage-account-375.png");
  }, 60_000);
});
