/**
 * Instances in a real browser (Debian's chromium through playwright-core)
 * against the whole compute side in this process (`startCompute()`): the api
 * serving the web app on a real port, pg-boss workers, and the local
 * provider running real pods whose agents report back. What a person sees
 * while launching, waiting, stopping and deleting.
 */
import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import type { Locator, Page } from "playwright-core";
import { instances, memberships, users } from "../../db/schema";
import { postEntry } from "../../src/billing/ledger";
import { randomBase62 } from "../../src/ids";
import { browserForFile, requireWebBuild, seen, signUpInBrowser } from "../support/browser";
import { startCompute } from "../support/compute";

requireWebBuild();
// A boot of a few seconds, so "pending" with its progress can be seen before "running".
const compute = await startCompute({ bootMs: 2_500 });
const origin = compute.url;

const { newPage } = browserForFile({ width: 1366, height: 900 });

const REPO = "Qwen/Qwen2.5-0.5B-Instruct";
/** How long a person would wait for a pod: the list polls every 2 s while anything is under way. */
const POD_WAIT = 25_000;

const signUp = (page: Page) => signUpInBrowser(page, origin, "launcher");

/** Signs up in the browser, then credits the new account as a confirmed top-up would. */
async function fundedUser(page: Page, cents = 10_000): Promise<string> {
  const email = await signUp(page);
  const [row] = await compute.db
    .select({ accountId: memberships.accountId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(users.email, email));
  await postEntry(compute.db, { accountId: row!.accountId, kind: "topup", amountCents: cents, reference: `cs_test_${randomBase62(12)}` });
  return email;
}

async function openLaunchPage(page: Page) {
  await page.getByRole("link", { name: "Launch instance" }).first().click();
  await page.waitForURL("**/instances/new");
  await seen(page.getByRole("heading", { level: 1, name: "Launch instance" }));
}

/** Serve a model on the reference runtime, named `name`; waits for the check to pass. */
async function fillReferenceLaunch(page: Page, name: string) {
  await page.getByRole("radio", { name: /Serve a model/ }).check();
  await page.getByRole("radio", { name: /Reference runtime/ }).check();
  await page.getByLabel("Hugging Face repo").fill(REPO);
  await seen(page.getByTestId("model-check").getByText("Ready to serve on Reference runtime."));
  await page.getByLabel("GPU type", { exact: true }).selectOption("L4");
  await page.getByLabel("GPUs per pod").selectOption("1");
  await page.getByLabel("Name (optional)", { exact: true }).fill(name);
}

async function launch(page: Page) {
  const button = page.getByRole("button", { name: "Launch", exact: true });
  await expectEnabled(button);
  await button.click();
  await page.waitForURL(/\/instances\/inst_[0-9A-Za-z]+$/);
}

async function expectEnabled(locator: Locator, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (await locator.isDisabled()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the button to be enabled");
    await Bun.sleep(100);
  }
}

const row = (page: Page, name: string) => page.getByTestId("instance-row").filter({ hasText: name });
const stateOf = (scope: Page | Locator, state: string) => scope.locator(`[data-state="${state}"]`).first();

async function goToList(page: Page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Instances" }).click();
  await page.waitForURL("**/instances");
  await seen(page.getByRole("heading", { level: 1, name: "Instances" }));
}

describe("instances in the browser", () => {
  test("launch a model from the empty list, watch it boot and run, stop it from its row, delete it", async () => {
    const page = await newPage();
    await fundedUser(page);
    expect(await seen(page.getByRole("heading", { name: "No instances yet" }))).toBe(true);

    await openLaunchPage(page);
    await fillReferenceLaunch(page, "chat-a");

    // The live check: what the model is, what it needs, and where the facts came from.
    const check = page.getByTestId("model-check");
    expect(await seen(check.getByText("Qwen2ForCausalLM"))).toBe(true);
    expect(await seen(check.getByText("494 M"))).toBe(true);
    const vram = page.getByTestId("vram-estimate");
    expect(await seen(vram.getByText(/VRAM estimate: ~2\.3 GiB/))).toBe(true);
    expect(await vram.getByText("21.6 GiB usable of 24 GiB").isVisible()).toBe(true);
    expect(await seen(check.getByText(/Metadata (read from the Hugging Face hub|from the bundled snapshot)/))).toBe(true);

    // The price: reference runtime, a chat model under 15 B, 1×L4 secure, and the runway at a €100 balance.
    const price = page.getByTestId("price-panel");
    await seen(price.getByTestId("rate").getByText("€0.79"));
    expect(await price.getByText("LLM under 15 B parameters").isVisible()).toBe(true);
    expect(await seen(price.getByTestId("runway").getByText("5 d 6 h"))).toBe(true);
    expect(await price.getByTestId("runway-warning").count()).toBe(0);

    await launch(page);
    // The detail page while the pod boots: pending, with its phase and a progress bar.
    await seen(page.getByRole("heading", { level: 1, name: "chat-a" }));
    expect(await seen(stateOf(page, "pending"))).toBe(true);
    expect(await seen(page.getByTestId("boot-progress").getByRole("progressbar", { name: "Boot progress" }))).toBe(true);
    expect(await page.getByText("qwen2.5-0.5b-instruct").first().isVisible()).toBe(true);

    // Back on the list, waiting as a person would: the list polls until it runs.
    await goToList(page);
    const chat = row(page, "chat-a");
    await seen(chat);
    expect(await seen(stateOf(chat, "running"), POD_WAIT)).toBe(true);
    expect(await chat.getByRole("cell", { name: "1×L4 €0.79/h", exact: true }).isVisible()).toBe(true);

    // Its page now tells where it runs and why, and how to call it.
    await chat.getByRole("link", { name: "chat-a", exact: true }).click();
    await seen(stateOf(page, "running"));
    expect(await seen(page.getByTestId("chosen-offer").getByText("L4", { exact: true }))).toBe(true);
    expect(await page.getByTestId("base-url").textContent()).toBe(`${origin}/v1`);
    expect(await page.getByRole("region", { name: "curl example" }).textContent()).toContain('"model": "qwen2.5-0.5b-instruct"');
    expect(await page.getByTestId("run-row").count()).toBe(1);
    expect(await page.getByTestId("timeline-event").count()).toBe(2);
    // The metering of the live run: its locked rate, and one row per run.
    expect(await seen(page.getByTestId("metering-rate").getByText("€0.79/h"))).toBe(true);
    expect(await page.getByTestId("metering-run-row").count()).toBe(1);

    await goToList(page);
    // Stop asks first: the pod's disk goes with it, and billing stops.
    await chat.getByRole("button", { name: "Stop chat-a" }).click();
    const stop = page.getByRole("dialog", { name: "Stop instance" });
    expect(await seen(stop.getByText(/The pod's disk is wiped; the model is downloaded again at the next start\. Billing stops now\./))).toBe(true);
    await stop.getByRole("button", { name: "Stop instance" }).click();
    expect(await seen(stateOf(chat, "stopped"), POD_WAIT)).toBe(true);
    expect(await seen(chat.getByRole("button", { name: "Start chat-a" }))).toBe(true);

    // The rest of a row's actions are in its menu.
    await chat.getByRole("button", { name: "Actions for chat-a" }).click();
    await page.getByRole("button", { name: "Delete chat-a" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete instance" });
    expect(await seen(confirm.getByText("Time already billed is not refunded."))).toBe(true);
    await confirm.getByRole("button", { name: "Delete instance" }).click();
    expect(await seen(page.getByRole("heading", { name: "No instances yet" }))).toBe(true);
  }, 120_000);

  test("a model that does not fit shows the problem and its remediation, and cannot launch until it does", async () => {
    const page = await newPage();
    await fundedUser(page);
    await openLaunchPage(page);
    await page.getByRole("radio", { name: /vLLM/ }).check();
    await page.getByLabel("Hugging Face repo").fill("Qwen/Qwen3-8B");
    await page.getByLabel("GPU type", { exact: true }).selectOption("L4");

    const problem = page.getByTestId("model-problem");
    expect(await seen(problem.getByText(/Qwen3-8B needs ~23 GiB of VRAM/))).toBe(true);
    expect(await problem.getByText("Remediation: Pick 1×A100-40G or 1×L40S, or lower the context length to 34,816 tokens.").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Launch", exact: true }).isDisabled()).toBe(true);
    expect(await seen(page.getByTestId("launch-blocker").filter({ hasText: "Fix the model's problems first." }))).toBe(true);

    // The remediation is one click: on 1×L40S it fits, and the price follows the GPU.
    await page.getByRole("button", { name: "Use 1×L40S" }).click();
    expect(await seen(page.getByTestId("model-check").getByText("Ready to serve on vLLM."))).toBe(true);
    expect(await page.getByLabel("GPU type", { exact: true }).inputValue()).toBe("L40S");
    await seen(page.getByTestId("rate").getByText("€1.56"));
    await expectEnabled(page.getByRole("button", { name: "Launch", exact: true }));

    // Nothing was launched.
    await goToList(page);
    expect(await seen(page.getByRole("heading", { name: "No instances yet" }))).toBe(true);
  }, 120_000);

  test("stop selected stops every selected running instance in one go, and says what it skipped", async () => {
    const page = await newPage();
    await fundedUser(page);
    for (const name of ["bulk-a", "bulk-b"]) {
      await goToList(page);
      await openLaunchPage(page);
      await fillReferenceLaunch(page, name);
      await page.getByLabel("Serving name (optional)").fill(name);
      await launch(page);
    }

    await goToList(page);
    for (const name of ["bulk-a", "bulk-b"]) expect(await seen(stateOf(row(page, name), "running"), POD_WAIT)).toBe(true);

    await page.getByRole("checkbox", { name: "Select bulk-a" }).check();
    await page.getByRole("checkbox", { name: "Select bulk-b" }).check();
    const bulk = page.getByRole("toolbar", { name: "Bulk actions" });
    expect(await seen(bulk.getByText("2 selected"))).toBe(true);
    await bulk.getByRole("button", { name: "Stop selected" }).click();
    // It asks first, naming the instances it stops.
    const stop = page.getByRole("dialog", { name: "Stop 2 instances" });
    expect(await seen(stop.getByTestId("stop-list").getByText("bulk-a"))).toBe(true);
    expect(await stop.getByTestId("stop-list").getByText("bulk-b").isVisible()).toBe(true);
    await stop.getByRole("button", { name: "Stop 2 instances" }).click();
    expect(await seen(page.getByRole("status").getByText("Stopping 2 instances."))).toBe(true);
    for (const name of ["bulk-a", "bulk-b"]) expect(await seen(stateOf(row(page, name), "stopped"), POD_WAIT)).toBe(true);

    // Stopping what is already stopped loses nothing, so it does not ask: it changes nothing, and says why.
    await page.getByRole("checkbox", { name: "Select bulk-a" }).check();
    await bulk.getByRole("button", { name: "Stop selected" }).click();
    expect(await seen(page.getByTestId("bulk-skipped").getByText("already stopped"))).toBe(true);

    // Delete many asks first, naming what goes.
    await page.getByRole("checkbox", { name: "Select all instances" }).check();
    await bulk.getByRole("button", { name: "Delete selected" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete 2 instances" });
    expect(await seen(confirm.getByText("bulk-a"))).toBe(true);
    expect(await confirm.getByText("bulk-b").isVisible()).toBe(true);
    await confirm.getByRole("button", { name: "Delete 2 instances" }).click();
    expect(await seen(page.getByRole("heading", { name: "No instances yet" }))).toBe(true);
  }, 120_000);

  test("a balance below the minimum runway is shown on the price panel, with the way to Billing, and blocks the launch", async () => {
    const page = await newPage();
    await signUp(page);
    await openLaunchPage(page);
    await fillReferenceLaunch(page, "unfunded");

    const price = page.getByTestId("price-panel");
    expect(await seen(price.getByTestId("runway").getByText("Your balance does not cover any time at €0.79/h."))).toBe(true);
    const warning = price.getByTestId("runway-warning");
    expect(await seen(warning.getByText("A launch needs at least 1 h of runway (€0.79)."))).toBe(true);
    expect(await warning.getByRole("link", { name: "Add funds in Billing" }).getAttribute("href")).toBe("/billing/top-up");
    expect(await page.getByRole("button", { name: "Launch", exact: true }).isDisabled()).toBe(true);
    expect(await seen(page.getByTestId("launch-blocker").filter({ hasText: "Add funds to cover the minimum runway." }))).toBe(true);
  }, 60_000);

  test("placement constraints set at launch are edited in Settings: a bad value is explained under its field, a good one is saved", async () => {
    const page = await newPage();
    await fundedUser(page);
    await openLaunchPage(page);
    await fillReferenceLaunch(page, "constrained");
    await page.getByLabel("Maximum price per hour (optional)").fill("2.50");
    await launch(page);
    const id = page.url().split("/").at(-1)!;

    await page.getByRole("tab", { name: "Settings" }).click();
    expect(await page.getByLabel("Maximum price per hour (optional)").inputValue()).toBe("2.50");
    await page.getByLabel("Allowed regions (optional)").fill("local");
    await page.getByLabel("Allowed regions (optional)").press("Enter");
    await page.getByLabel("Minimum VRAM (GiB) (optional)").fill("lots");
    await page.getByRole("button", { name: "Save settings" }).click();
    expect(await seen(page.getByText("Enter a whole number of GiB."))).toBe(true);

    await page.getByLabel("Minimum VRAM (GiB) (optional)").fill("16");
    await page.getByRole("button", { name: "Save settings" }).click();
    expect(await seen(page.getByText("Settings saved."))).toBe(true);
    const [saved] = await compute.db.select().from(instances).where(eq(instances.id, id));
    expect(saved).toMatchObject({ allowedRegions: ["local"], maxPriceCentsPerHour: 250, minVramGib: 16 });
  }, 60_000);
});
