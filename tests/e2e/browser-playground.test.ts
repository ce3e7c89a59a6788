/**
 * The playground sheet in a real browser against the whole compute side:
 * opened over an instance's page and over the list without leaving either,
 * a chat answer streamed from a reference-runtime pod through /v1 with the
 * session cookie, texts and images embedded on a multimodal embedder (which
 * offers no Chat tab: only the panels an instance serves), and
 * the sheet's place in the URL (Escape, Back, old links).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Locator, Page } from "playwright-core";
import { launchBrowser, requireWebBuild, seen } from "../support/browser";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

requireWebBuild();
const compute = await startCompute();
const origin = compute.url;

// The browser signs in as this user: its session cookie is the one the tRPC caller uses.
const owner = await compute.fundedUser();
const chat = await owner.api.instances.launch({ ...referenceLaunch, servingName: "play-chat" });
// A model that reads images too, so its sheet has the Image tab.
const embed = await owner.api.instances.launch({ ...referenceLaunch, hfRepo: "Qwen/Qwen3-VL-Embedding-2B", task: "embeddings", servingName: "play-embed" });
await waitFor(
  () => owner.api.instances.list(),
  (list) => list.length === 2 && list.every((i) => i.state === "running"),
  30_000,
  "both instances running",
);

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

const sheet = (instance: { displayName: string }) => page.getByRole("dialog", { name: `Playground · ${instance.displayName}` });
const search = () => new URL(page.url()).searchParams;

async function curlOf(dialog: Locator): Promise<string> {
  const summary = dialog.getByText("As curl", { exact: true });
  if (!(await dialog.locator("details[open]").count())) await summary.click();
  return (await dialog.getByRole("region", { name: "curl equivalent" }).textContent()) ?? "";
}

test("the Playground button on an instance's page opens the sheet over it, and a chat answer streams", async () => {
  await page.goto(`${origin}/instances/${chat.id}`);
  await page.getByRole("button", { name: `Playground for ${chat.displayName}` }).click();
  const dialog = sheet(chat);
  await seen(dialog);
  expect(new URL(page.url()).pathname).toBe(`/instances/${chat.id}`);
  expect(search().get("playground")).toBe(chat.id);
  await seen(dialog.getByRole("tab", { name: "Chat", selected: true }));
  // A chat runtime serves no embeddings: only the panels it serves.
  expect(await dialog.getByRole("tab").allTextContents()).toEqual(["Chat"]);
  await seen(dialog.getByRole("combobox", { name: "Firewall" }));

  await dialog.getByLabel("Message", { exact: true }).fill("Hello");
  await dialog.getByRole("button", { name: "Send" }).click();
  const answer = dialog.getByTestId("conversation").locator('[data-role="assistant"]');
  await seen(answer.getByText(/^\[reference runtime\]/));
  const curl = await curlOf(dialog);
  expect(curl).toContain('"stream": true');
  expect(curl).toContain('"model": "play-chat"');
});

test("when the instance stops, the sheet says so and shows the proxy's refusal as an alert", async () => {
  const dialog = sheet(chat);
  await owner.api.instances.stop({ id: chat.id });
  await waitFor(
    () => owner.api.instances.get({ id: chat.id }),
    (i) => i.state === "stopped",
    20_000,
    "chat stopped",
  );
  await dialog.getByLabel("Message", { exact: true }).fill("Still there?");
  await dialog.getByRole("button", { name: "Send" }).click();
  await seen(dialog.getByRole("alert").getByText(/stopped/));
  // The page under the sheet polls, and the sheet follows it.
  await seen(dialog.getByRole("status").getByText(/This instance is stopped/), 20_000);
  // The stop, then up to one 10 s poll of a running instance.
}, 45_000);

test("Escape closes the sheet and the URL loses its parameter; the page stays", async () => {
  await page.keyboard.press("Escape");
  await sheet(chat).waitFor({ state: "hidden" });
  await page.waitForURL((url) => !url.searchParams.has("playground"));
  expect(new URL(page.url()).pathname).toBe(`/instances/${chat.id}`);
  // Stopped now: the button says why it cannot open.
  await seen(page.getByRole("button", { name: `Playground for ${chat.displayName}: Opens once the instance is running` }));
});

test("from the list row's menu: an embedder's Embeddings panel and no Chat, a text to a vector and its dimension; Back closes it", async () => {
  await page.goto(`${origin}/instances`);
  await page
    .locator(`[data-instance-id="${embed.id}"]`)
    .getByRole("button", { name: `Actions for ${embed.displayName}` })
    .click();
  await page.getByRole("button", { name: `Playground for ${embed.displayName}` }).click();
  const dialog = sheet(embed);
  await seen(dialog);
  expect(new URL(page.url()).pathname).toBe("/instances");
  expect(search().get("playground")).toBe(embed.id);
  const panel = dialog.getByRole("tabpanel", { name: "Embeddings" });
  await seen(dialog.getByRole("tab", { name: "Embeddings", selected: true }));
  // It serves embeddings only: no Chat tab that would error ("/v1/chat/completions is not available on it").
  expect(await dialog.getByRole("tab").allTextContents()).toEqual(["Embeddings", "Image"]);
  expect(await dialog.getByRole("tabpanel", { name: "Chat", includeHidden: true }).count()).toBe(0);

  await panel.getByLabel("Text").fill("hello world");
  await panel.getByRole("button", { name: "Embed" }).click();
  const result = panel.getByTestId("embedding-result");
  await seen(result.getByText(/dimension \d+/));
  const dimension = Number(/dimension (\d+)/.exec((await result.textContent()) ?? "")?.[1]);
  expect(dimension).toBeGreaterThan(8);
  expect(await result.locator("code").textContent()).toMatch(/^\s*\[-?\d\.\d{4}, /);

  await page.goBack();
  await dialog.waitFor({ state: "hidden" });
  expect(new URL(page.url()).pathname).toBe("/instances");
  expect(search().has("playground")).toBe(false);
});

test("an old /instances/<id>/playground link opens the sheet, whose Image tab embeds an image by its URL", async () => {
  await page.goto(`${origin}/instances/${embed.id}/playground`);
  await page.waitForURL(`**/instances/${embed.id}?playground=${embed.id}`);
  const dialog = sheet(embed);
  await seen(dialog);

  await dialog.getByRole("tab", { name: "Image" }).click();
  const panel = dialog.getByRole("tabpanel", { name: "Image" });
  // A few bytes behind a PNG signature: the reference runtime hashes images, it never decodes them.
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: 32 }, (_, i) => i)]);
  await panel.getByLabel("Image URL").fill(`data:image/png;base64,${png.toString("base64")}`);
  await panel.getByRole("button", { name: "Embed" }).click();
  await seen(panel.getByTestId("embedding-result").getByText(/dimension \d+/));
  expect(await curlOf(dialog)).toContain('"type": "image_url"');

  // Arrived with the parameter: closing drops it in place, on the instance's page.
  await dialog.getByRole("button", { name: "Close", exact: true }).click();
  await dialog.waitFor({ state: "hidden" });
  expect(new URL(page.url()).pathname).toBe(`/instances/${embed.id}`);
  expect(search().has("playground")).toBe(false);
});
