import { afterAll, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import type { Database } from "../../db/client";
import { createApp, webBuildDir } from "../../server/app";
import { loadConfig } from "../../src/config";
import { randomBase62 } from "../../src/ids";
import { freePort } from "./cluster";
import { freshDatabase } from "./db";

/** Debian's chromium; tests never download a browser of their own. */
export const CHROMIUM_PATH = process.env.QDZ_CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No browser at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install -y chromium).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * One Chromium for a test file: launched before its tests, closed after them
 * with every page opened. Call it at the file's top level. Each `newPage()` is
 * a new person (a context of its own, so its own cookies).
 */
export function browserForFile(defaultViewport = { width: 1280, height: 860 }) {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
  });
  return {
    async newPage(viewport = defaultViewport): Promise<Page> {
      const context = await browser!.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      return page;
    },
  };
}

export interface WebServer {
  /** The origin the browser opens, also the api's PUBLIC_URL (invite links, CSRF). */
  url: string;
  /** Its database, for tests that insert rows directly (factories). */
  db: Database;
  stop(): Promise<void>;
}

/** For tests that serve the web app from an api of their own (`startCompute()`): fails early when it is not built. */
export function requireWebBuild(): void {
  if (!existsSync(join(webBuildDir, "200.html"))) {
    throw new Error("The web app is not built: run `bun src/platform/web-build.ts` first (`npm test` does).");
  }
}

/**
 * The real api, in this process, on a fresh database, serving the built web app.
 * Call it at a test file's top level: the database is closed by an afterAll it registers.
 */
export async function startWebServer(): Promise<WebServer> {
  requireWebBuild();
  const { db } = await freshDatabase();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = createApp({ db, config: loadConfig({ PORT: String(port), PUBLIC_URL: url }) }).listen({ port, hostname: "127.0.0.1" });
  return {
    url,
    db,
    stop: async () => {
      await app.stop(true);
    },
  };
}

/** Waits until a user could see the element (playwright-core has no `expect`); fails with a readable timeout. */
export async function seen(locator: Locator, timeout = 10_000): Promise<true> {
  await locator.waitFor({ state: "visible", timeout });
  return true;
}

export const TEST_PASSWORD = "correct horse battery staple";

/** A returning person signs in on the login page and lands in the app. */
export async function signInInBrowser(page: Page, origin: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${origin}/login`);
  await page.getByLabel("Email", { exact: true }).fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/instances");
}

/** A new person signs up on the sign-up page and lands in the app; returns their email (`<who>-<random>@example.com`). */
export async function signUpInBrowser(page: Page, origin: string, who: string): Promise<string> {
  const email = `${who}-${randomBase62(6).toLowerCase()}@example.com`;
  await page.goto(`${origin}/signup`);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(TEST_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/instances");
  return email;
}
