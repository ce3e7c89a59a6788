/** The API reference page: reached from the API keys page, written from the served OpenAPI document. */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { projectRoot } from "../../src/config";
import { browserForFile, seen, signUpInBrowser, startWebServer } from "../support/browser";

const ARTIFACTS = join(projectRoot, "tests", "artifacts");
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
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(ARTIFACTS, "api-reference-1280.png") });

  // A phone: the open operation, its long paths and schemas fit without sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.locator("details#launchInstance summary").click();
  await seen(parameter);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "api-reference-390.png") });
}, 60_000);
