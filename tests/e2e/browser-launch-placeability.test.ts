/**
 * The Launch page asks the scheduler with the live offers before anything is
 * created: which GPU can be placed now and at what price, a plain sentence and
 * a disabled Launch when nothing can, a one-click switch to what can, and a
 * default GPU picked (and said) when none is chosen. Real Chromium against
 * the compute side in this process (local provider: L4:4, L40S:1, A100-80G:1).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Locator, Page } from "playwright-core";
import { memberships, users } from "../../db/schema";
import { postEntry } from "../../src/billing/ledger";
import { randomBase62 } from "../../src/ids";
import { browserForFile, requireWebBuild, seen, signUpInBrowser } from "../support/browser";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

requireWebBuild();
const compute = await startCompute();
const origin = compute.url;
const { newPage } = browserForFile({ width: 1280, height: 800 });

const REPO = "Qwen/Qwen2.5-0.5B-Instruct";
const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

async function fundedLauncher(page: Page): Promise<void> {
  const email = await signUpInBrowser(page, origin, "placeable");
  const [row] = await compute.db
    .select({ accountId: memberships.accountId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(users.email, email));
  await postEntry(compute.db, { accountId: row!.accountId, kind: "topup", amountCents: 10_000, reference: `cs_test_${randomBase62(12)}` });
}

async function openWithModel(page: Page) {
  await page.goto(`${origin}/instances/new`);
  await seen(page.getByRole("heading", { level: 1, name: "Launch instance" }));
  await page.getByRole("radio", { name: /Reference runtime/ }).check();
  await page.getByLabel("Hugging Face repo").fill(REPO);
  await seen(page.getByTestId("model-check").getByText("Ready to serve on Reference runtime."));
}

async function until(what: string, check: () => Promise<boolean>, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(100);
  }
}

const launchButton = (page: Page) => page.getByRole("button", { name: "Launch", exact: true });
const textOf = async (locator: Locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();

describe("the Launch page asks the scheduler first", () => {
  test("a default GPU is picked and priced; a taken one disables Launch with the reason and a one-click alternative", async () => {
    // Someone else's instance holds the only A100.
    const { api } = await compute.fundedUser();
    const holder = await api.instances.launch({ ...referenceLaunch, gpuPreferences: ["A100-80G"], servingName: "a100-holder" });
    await waitFor(
      () => api.instances.get({ id: holder.id }),
      (d) => d.state === "running",
      30_000,
      "the A100 instance to run",
    );

    const page = await newPage();
    await fundedLauncher(page);
    await openWithModel(page);

    // No GPU chosen: the cheapest free one the model fits on is picked, and the page says so.
    expect(await page.getByLabel("GPU type", { exact: true }).inputValue()).toBe("");
    const picked = page.getByTestId("gpu-picked");
    await seen(picked);
    expect(await textOf(picked)).toMatch(/^L4 \(picked: cheapest free GPU with ≥ \d+ GiB\)$/);
    const availability = page.getByTestId("availability");
    await seen(availability.getByTestId("availability-choice").filter({ hasText: "L4" }));
    expect(await textOf(availability.getByTestId("availability-choice").first())).toBe("L4 · 4 free in local €0.79/h");
    await seen(page.getByTestId("rate").getByText("€0.79"));
    await until("Launch is enabled", async () => !(await launchButton(page).isDisabled()));
    expect(await page.getByTestId("launch-blocker").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "launch-placeable-1280.png"), fullPage: true });

    // The A100 is taken: said plainly, Launch disabled, the free alternative one click away.
    await page.getByLabel("GPU type", { exact: true }).selectOption("A100-80G");
    const unplaceable = page.getByTestId("unplaceable");
    await seen(unplaceable);
    expect(await textOf(unplaceable.locator("p").first())).toBe("No A100-80G is free right now; 1 L4 is, at €0.79/h — use it?");
    expect(await launchButton(page).isDisabled()).toBe(true);
    expect(await textOf(page.getByTestId("launch-blocker"))).toBe("No A100-80G is free right now.");
    expect(await textOf(availability.getByTestId("availability-choice").first())).toBe("A100-80G · No A100-80G is free right now.");
    await page.screenshot({ path: join(ARTIFACTS, "launch-unplaceable-1280.png"), fullPage: true });

    await page.getByTestId("use-alternative").click();
    expect(await page.getByLabel("GPU type", { exact: true }).inputValue()).toBe("L4");
    await until("the alternative is placeable", async () => (await page.getByTestId("unplaceable").count()) === 0);
    await until("Launch is enabled again", async () => !(await launchButton(page).isDisabled()));
    await seen(page.getByTestId("rate").getByText("€0.79"));

    // A GPU no provider offers at all (8×H200): the same, in its own words.
    await page.getByLabel("GPU type", { exact: true }).selectOption("H200-141G");
    await page.getByLabel("GPUs per pod").selectOption("8");
    await seen(page.getByTestId("unplaceable").getByText("No provider offers H200-141G."));
    expect(await launchButton(page).isDisabled()).toBe(true);

    await api.instances.stop({ id: holder.id });
  }, 90_000);

  test("at 390 px the reason and the switch fit the screen", async () => {
    const page = await newPage({ width: 390, height: 844 });
    await fundedLauncher(page);
    await openWithModel(page);
    await page.getByLabel("GPU type", { exact: true }).selectOption("H200-141G");
    const unplaceable = page.getByTestId("unplaceable");
    await seen(unplaceable);
    expect(await textOf(unplaceable.locator("p").first())).toBe("No provider offers H200-141G; 1 L4 is, at €0.79/h — use it?");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const box = await page.getByTestId("use-alternative").boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await launchButton(page).isDisabled()).toBe(true);
  }, 60_000);
});
