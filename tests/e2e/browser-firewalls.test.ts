/** The Firewalls page in a real browser: create a firewall, test prompts against it, see the server's refusals, reorder and delete. */
import { afterAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { browserForFile, seen, signUpInBrowser, startWebServer } from "../support/browser";

const server = await startWebServer();
const { newPage } = browserForFile();
afterAll(async () => {
  await server.stop();
});

/** Set to a folder to keep desktop and mobile screenshots of each step, for a look at the layout. */
const shotsDir = process.env.QDZ_SHOTS_DIR;

async function shoot(page: Page, name: string) {
  if (!shotsDir) return;
  await page.screenshot({ path: `${shotsDir}/${name}-desktop.png`, fullPage: true });
  const viewport = page.viewportSize()!;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(400); // the navigation drawer settles off-screen
  await page.screenshot({ path: `${shotsDir}/${name}-mobile.png`, fullPage: true });
  await page.setViewportSize(viewport);
}

async function addRule(page: Page, kind: string) {
  await page.getByRole("button", { name: "Add rule" }).click();
  await page
    .getByRole("dialog", { name: "Add a rule" })
    .getByRole("button", { name: new RegExp(`^${kind}`) })
    .click();
}

const ruleOrder = (page: Page) => page.locator("li[data-rule-id]").evaluateAll((items) => items.map((item) => item.getAttribute("data-rule-id")));

async function testPrompt(page: Page, text: string): Promise<string> {
  await page.getByLabel("Prompt to test").fill(text);
  await page.getByRole("button", { name: "Test prompt" }).click();
  const verdict = page.getByTestId("test-verdict");
  await seen(verdict);
  return (await verdict.textContent()) ?? "";
}

test("a firewall is created, tested, refused a risky pattern, reordered and deleted", async () => {
  const page = await newPage();
  await signUpInBrowser(page, server.url, "firewalls");

  // Empty state.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Firewalls" }).click();
  await page.waitForURL(/\/firewalls$/);
  expect(await seen(page.getByRole("heading", { name: "No firewalls yet" }))).toBe(true);
  await shoot(page, "firewalls-empty");
  await page.getByRole("main").getByRole("link", { name: "Create firewall" }).last().click();
  await page.waitForURL(/\/firewalls\/new$/);

  // "strict": a deny list that blocks, then personal data (emails only) redacted.
  await page.getByLabel("Name").fill("strict");
  await addRule(page, "Deny list");
  await page.getByLabel("Terms").fill("project zeus");
  await page.getByLabel("Terms").press("Enter");
  await addRule(page, "Personal data");
  const pii = page.getByRole("listitem", { name: /Personal data rule pii/ });
  await pii.getByRole("radio", { name: "Redact" }).check();
  for (const category of ["Phone numbers", "IBANs (checksum)", "Card numbers (Luhn)"]) await pii.getByLabel(category).uncheck();
  await shoot(page, "firewall-new");
  await page.getByRole("button", { name: "Create firewall" }).click();
  await page.waitForURL(/\/firewalls\/fw/);
  expect(await ruleOrder(page)).toEqual(["deny-list", "pii"]);

  // The test box shows the verdict of the saved rules.
  expect(await testPrompt(page, "tell me about Project Zeus")).toContain("Blocked by rule deny-list (Deny list)");
  expect(await testPrompt(page, "mail ada@example.com")).toContain("Forwarded with redactions");
  expect(await page.getByTestId("redacted-text").textContent()).toBe("mail [REDACTED:pii]");
  expect(await testPrompt(page, "hello there")).toContain("Allowed");
  await testPrompt(page, "mail ada@example.com");
  await shoot(page, "firewall-detail");

  // A pattern RE2 cannot express: the server's refusal sits under the pattern field.
  await addRule(page, "Custom pattern");
  await page.getByRole("textbox", { name: "Pattern" }).fill("(a+)\\1");
  await page.getByRole("button", { name: "Save firewall" }).click();
  const pattern = page.getByRole("textbox", { name: "Pattern" });
  await page.waitForFunction(() => document.querySelector("[aria-invalid='true']") !== null);
  const describedBy = await pattern.getAttribute("aria-describedby");
  expect(await page.locator(`[id="${describedBy}"]`).textContent()).toContain("`\\1` is a backreference");
  await shoot(page, "firewall-regex-refused");

  // Drop it, move personal data first, save, and the order survives a reload.
  await page.getByRole("button", { name: "Remove regex", exact: true }).click();
  await page.getByRole("button", { name: "Move pii up" }).click();
  expect(await ruleOrder(page)).toEqual(["pii", "deny-list"]);
  await page.getByRole("button", { name: "Save firewall" }).click();
  await seen(page.getByText("Firewall “strict” saved."));
  await page.reload();
  await seen(page.locator("li[data-rule-id]").first());
  expect(await ruleOrder(page)).toEqual(["pii", "deny-list"]);
  // Redaction first now: the email goes, and the deny list still blocks.
  expect(await testPrompt(page, "ada@example.com on project zeus")).toContain("Blocked by rule deny-list");

  // The list names it, with its rule count.
  await page.getByRole("link", { name: "Firewalls" }).first().click();
  await page.waitForURL(/\/firewalls$/);
  const row = page.getByRole("row", { name: /strict/ });
  expect(await row.textContent()).toContain("2 rules");
  await shoot(page, "firewalls-list");

  // Delete, with confirmation.
  await row.getByRole("link", { name: "strict" }).click();
  await page.waitForURL(/\/firewalls\/fw/);
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog", { name: "Delete firewall" }).getByRole("button", { name: "Delete firewall" }).click();
  await page.waitForURL(/\/firewalls$/);
  expect(await seen(page.getByRole("heading", { name: "No firewalls yet" }))).toBe(true);
}, 60_000);
