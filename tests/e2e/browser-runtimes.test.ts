/** The Runtimes page: what serves each runtime's pods on this machine, in a real browser. */
import { afterAll, expect, test } from "bun:test";
import { findRuntimeBinary } from "../../src/providers/local/local-provider";
import { browserForFile, seen, signUpInBrowser, startWebServer } from "../support/browser";

const server = await startWebServer();
const { newPage } = browserForFile();
afterAll(async () => {
  await server.stop();
});

test("the Runtimes page lists every runtime and says what its pods run here", async () => {
  const page = await newPage();
  await signUpInBrowser(page, server.url, "runtimes");

  await page.getByRole("link", { name: "Runtimes" }).click();
  await page.waitForURL(/\/runtimes$/);
  for (const name of ["vLLM", "Hugging Face TEI", "llama.cpp server", "Ollama", "QDivZero reference runtime"]) {
    expect(await seen(page.getByRole("cell", { name: new RegExp(name) }).first())).toBe(true);
  }
  const vllmRow = page.getByRole("row", { name: /vLLM/ });
  expect(await vllmRow.textContent()).toContain(findRuntimeBinary("vllm") ? "vLLM" : "reference runtime (stand-in)");
  const llamaRow = page.getByRole("row", { name: /llama\.cpp server/ });
  if (findRuntimeBinary("llama-server")) expect(await llamaRow.textContent()).toContain(findRuntimeBinary("llama-server")!);
  else expect(await seen(llamaRow.getByRole("button", { name: "Build llama.cpp server" }))).toBe(true);

  // Every badge's text stays inside its pill, and the Build button stays on one line (issue 14, item 7).
  const spilling = await page
    .locator("table .badge")
    .evaluateAll((badges) => badges.filter((b) => b.scrollWidth > b.clientWidth + 1 || b.scrollHeight > b.clientHeight + 1).map((b) => b.textContent));
  expect(spilling).toEqual([]);
  for (const button of await page.getByRole("button", { name: /^Build / }).all()) {
    const lineHeight = await button.evaluate((b) => Number.parseFloat(getComputedStyle(b).lineHeight) || 20);
    const { height } = (await button.boundingBox())!;
    expect(height).toBeLessThan(lineHeight * 2);
  }
}, 60_000);
