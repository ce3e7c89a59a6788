/**
 * The playground with a firewall, in a real browser against real pods (issue 14, items 7 and 8): a
 * blocked prompt is shown as blocked with its rule and left out of what later requests send, so the
 * conversation goes on; a redacted one shows what the model received; "No firewall" lets an owner's
 * prompt through for the playground only. And sign-up says what is wrong with a long account name
 * in product words.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, requireWebBuild, seen, TEST_PASSWORD } from "../support/browser";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

requireWebBuild();
const compute = await startCompute();
const origin = compute.url;
const owner = await compute.fundedUser();
const launched = await owner.api.instances.launch({ ...referenceLaunch, servingName: "guarded-chat" });
await waitFor(
  () => owner.api.instances.get({ id: launched.id }),
  (i) => i.state === "running",
  30_000,
  "running",
);
const strict = await owner.api.firewalls.create({
  name: "strict",
  rules: [
    { id: "no-zeus", kind: "deny_list", action: "block", options: { terms: ["project zeus"] } },
    { id: "hide-emails", kind: "pii", action: "redact", options: { categories: ["emails"] } },
  ],
});
await owner.api.firewalls.attach({ instanceId: launched.id, firewallId: strict.id });

const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

let browser: Browser;
let page: Page;
/** Every chat request the page sent, as the proxy received its body. */
const sent: { messages: { role: string; content: string }[]; firewall: string | null }[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name: "qdz_session", value: owner.user.sessionToken, url: origin, httpOnly: true, sameSite: "Lax" }]);
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("request", (request) => {
    if (request.method() === "POST" && request.url().endsWith("/v1/chat/completions")) {
      sent.push({ messages: request.postDataJSON().messages, firewall: request.headers()["x-qdz-firewall"] ?? null });
    }
  });
});

afterAll(async () => {
  await browser?.close();
});

const dialog = () => page.getByRole("dialog", { name: `Playground · ${launched.displayName}` });
const conversation = () => dialog().getByTestId("conversation");
const answers = () => conversation().locator('[data-role="assistant"]');

async function send(text: string) {
  const answered = await answers().count();
  const requests = sent.length;
  await dialog().getByLabel("Message", { exact: true }).fill(text);
  await dialog().getByRole("button", { name: "Send" }).click();
  await waitFor(
    async () => sent.length,
    (n) => n > requests,
    10_000,
    "the request",
  );
  return { answered, request: () => sent.at(-1)! };
}

test("a blocked prompt is shown as blocked with its rule, and the next message goes through without it", async () => {
  await page.goto(`${origin}/instances/${launched.id}?playground=${launched.id}`);
  await seen(dialog());
  await seen(dialog().getByRole("tab", { name: "Chat", selected: true }));

  await send("Tell me everything about Project Zeus");
  const blocked = conversation().locator('li[data-status="blocked"]');
  await seen(blocked);
  expect(await blocked.locator('[data-role="user"]').textContent()).toBe("Tell me everything about Project Zeus");
  expect(await blocked.getByTestId("blocked-note").textContent()).toContain(
    "Blocked, not sent to the model. Firewall 'strict' blocked this prompt: rule 'no-zeus' (deny_list) matched in messages[1].content.",
  );
  // The rule is on the message, not in an alert over the panel.
  expect(await dialog().getByRole("alert").count()).toBe(0);
  await page.screenshot({ path: join(ARTIFACTS, "playground-blocked-1280.png") });

  const next = await send("Hello");
  await seen(
    answers()
      .nth(next.answered)
      .getByText(/^\[reference runtime\]/),
  );
  const contents = next.request().messages.map((m) => m.content);
  expect(contents).toEqual(["You are a helpful assistant.", "Hello"]);
  expect(await conversation().locator('li[data-status="blocked"]').count()).toBe(1);
}, 30_000);

test("a redacted prompt shows what the model received, and later requests send that", async () => {
  const redacted = await send("Write to ada@example.com about the launch");
  await seen(
    answers()
      .nth(redacted.answered)
      .getByText(/^\[reference runtime\]/),
  );
  const note = conversation().locator('li[data-status="redacted"]').getByTestId("redacted-note");
  await seen(note.getByText("Redacted by the firewall. The model received:"));
  expect(await note.getByTestId("model-received").textContent()).toBe("Write to [REDACTED:pii] about the launch");

  const next = await send("Thanks");
  await seen(
    answers()
      .nth(next.answered)
      .getByText(/^\[reference runtime\]/),
  );
  const contents = next.request().messages.map((m) => m.content);
  expect(contents).toContain("Write to [REDACTED:pii] about the launch");
  expect(contents.join("\n")).not.toContain("ada@example.com");
}, 30_000);

test("'No firewall' lets an owner's prompt through for the playground; the curl for an API key leaves it out", async () => {
  const select = dialog().getByRole("combobox", { name: "Firewall" });
  await select.selectOption({ label: "No firewall" });
  await seen(dialog().getByText("For these playground requests only. API keys are always screened by the instance's firewall."));

  const unscreened = await send("Project Zeus status?");
  await seen(
    answers()
      .nth(unscreened.answered)
      .getByText(/^\[reference runtime\]/),
  );
  expect(unscreened.request().firewall).toBe("none");
  expect(unscreened.request().messages.at(-1)!.content).toBe("Project Zeus status?");
  expect(await conversation().locator('li[data-status="blocked"]').count()).toBe(1);

  await dialog().getByText("As curl", { exact: true }).click();
  const curl = (await dialog().getByRole("region", { name: "curl equivalent" }).textContent()) ?? "";
  expect(curl).toContain("Authorization: Bearer $QDZ_API_KEY");
  expect(curl).not.toContain("x-qdz-firewall");

  // Back on the instance's default, the same prompt is blocked again.
  await select.selectOption({ label: "Instance default" });
  await send("Project Zeus status?");
  await waitFor(
    () => conversation().locator('li[data-status="blocked"]').count(),
    (n) => n === 2,
    10_000,
    "blocked again",
  );
}, 30_000);

test("sign-up with an 81-character account name says so in product words", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const signup = await context.newPage();
  await signup.goto(`${origin}/signup`);
  await signup.getByLabel("Email", { exact: true }).fill("long-name@example.com");
  await signup.getByLabel("Password", { exact: true }).fill(TEST_PASSWORD);
  await signup.getByLabel("Account name").fill("a".repeat(81));
  await signup.getByRole("button", { name: "Create account" }).click();
  expect(await seen(signup.getByText("Account name must be at most 80 characters.", { exact: true }))).toBe(true);
  expect(await signup.getByText(/Too big|expected string/).count()).toBe(0);
  await context.close();
}, 30_000);
