/**
 * The playground in a real browser against the whole compute side: a chat
 * answer streamed from a reference-runtime pod through /v1 with the session
 * cookie, and a text embedded on an embeddings instance.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, requireWebBuild, seen } from "../support/browser";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

requireWebBuild();
const compute = await startCompute();
const origin = compute.url;

// The browser signs in as this user: its session cookie is the one the tRPC caller uses.
const owner = await compute.fundedUser();
const chat = await owner.api.instances.launch({ ...referenceLaunch, servingName: "play-chat" });
const embed = await owner.api.instances.launch({ ...referenceLaunch, hfRepo: "BAAI/bge-small-en-v1.5", task: "embeddings", servingName: "play-embed" });
await waitFor(() => owner.api.instances.list(), (list) => list.length === 2 && list.every((i) => i.state === "running"), 30_000, "both instances running");

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  await context.addCookies([{ name: "qdz_session", value: owner.user.sessionToken, url: origin, httpOnly: true, sameSite: "Lax" }]);
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
});

afterAll(async () => {
  await browser?.close();
});

test("the Playground button opens the chat, which streams an answer", async () => {
  await page.goto(`${origin}/instances/${chat.id}`);
  await page.getByRole("link", { name: /Playground for/ }).click();
  await page.waitForURL(`**/instances/${chat.id}/playground`);
  await seen(page.getByRole("heading", { level: 1, name: "Playground" }));

  await page.getByLabel("Message", { exact: true }).fill("Hello");
  await page.getByRole("button", { name: "Send" }).click();
  const answer = page.getByTestId("conversation").locator('[data-role="assistant"]');
  await seen(answer.getByText(/^\[reference runtime\]/));
  const curl = await page.getByRole("region", { name: "curl equivalent" }).textContent();
  expect(curl).toContain('"stream": true');
  expect(curl).toContain('"model": "play-chat"');
});

test("a proxy error is shown as its message", async () => {
  await owner.api.instances.stop({ id: chat.id });
  await waitFor(() => owner.api.instances.get({ id: chat.id }), (i) => i.state === "stopped", 20_000, "chat stopped");
  await page.getByLabel("Message", { exact: true }).fill("Still there?");
  await page.getByRole("button", { name: "Send" }).click();
  await seen(page.getByRole("alert").getByText(/stopped/));
});

test("embeddings: text to a vector preview and its dimension", async () => {
  await page.goto(`${origin}/instances/${embed.id}/playground`);
  await seen(page.getByRole("heading", { name: "Embeddings" }));
  await page.getByLabel("Text").fill("hello world");
  await page.getByRole("button", { name: "Embed" }).click();
  const result = page.getByTestId("embedding-result");
  await seen(result.getByText(/dimension \d+/));
  const dimension = Number(/dimension (\d+)/.exec((await result.textContent()) ?? "")?.[1]);
  expect(dimension).toBeGreaterThan(8);
  expect(await result.locator("code").textContent()).toMatch(/^\s*\[-?\d\.\d{4}, /);
});
