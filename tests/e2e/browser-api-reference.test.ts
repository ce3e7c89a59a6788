/** The API reference page: reached from the API keys page, written from the served OpenAPI document. */
import { afterAll, expect, test } from "bun:test";
import { browserForFile, seen, signUpInBrowser, startWebServer } from "../support/browser";

const server = await startWebServer();
const { newPage } = browserForFile();
afterAll(async () => {
  await server.stop();
});

test("the API keys page links to a reference of every documented operation", async () => {
  const page = await newPage();
  await signUpInBrowser(page, server.url, "reference");
  const document = await (await fetch(`${server.url}/openapi.json`)).json();
  const operations = Object.values(document.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) => Object.values(ops));

  await page.getByRole("link", { name: "API keys" }).click();
  await page.waitForURL(/\/api-keys$/);
  await page.getByRole("link", { name: "REST API reference" }).click();
  await page.waitForURL(/\/api-reference$/);
  expect(await seen(page.getByRole("heading", { name: "API reference" }))).toBe(true);
  expect(await page.locator("main details[id]").count()).toBe(operations.length);

  // An operation opens to its parameters, body and answer.
  const launch = page.locator("details#launchInstance");
  await launch.locator("summary").click();
  // The header among its parameters (its description names it too).
  const parameter = launch.getByRole("listitem").filter({ has: page.getByText("header", { exact: true }) });
  expect(await seen(parameter.getByText("Idempotency-Key", { exact: true }))).toBe(true);
  expect(await seen(launch.getByText("hfRepo", { exact: true }).first())).toBe(true);
  expect(await seen(launch.getByText(/201 or 200 · Instance/i))).toBe(true);
}, 60_000);
