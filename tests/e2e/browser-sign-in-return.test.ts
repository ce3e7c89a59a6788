/**
 * After signing in, the person is back where they were going (issue 14, item 10), in Chromium against the real
 * api. The api listens on 127.0.0.1 while PUBLIC_URL names `localhost`, as on a fresh machine: the CLI reaches it
 * on one host and the browser is signed in on the other, and the checkout must still end on a signed-in page.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { createApp } from "../../server/app";
import { createClient } from "../../src/cli/client";
import { loadConfig } from "../../src/config";
import { browserForFile, requireWebBuild, seen } from "../support/browser";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { newUser } from "../support/factories";

requireWebBuild();
const { db } = await freshDatabase();
const port = await freePort();
const publicUrl = `http://localhost:${port}`;
const cliUrl = `http://127.0.0.1:${port}`;
const app = createApp({ db, config: loadConfig({ PORT: String(port), PUBLIC_URL: publicUrl }) }).listen({ port, hostname: "127.0.0.1" });
afterAll(async () => {
  await app.stop(true);
});

const { newPage } = browserForFile();

async function signIn(page: Page, user: { email: string; password: string }) {
  await page.getByLabel("Email", { exact: true }).fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const pathOf = (page: Page) => {
  const url = new URL(page.url());
  return url.pathname + url.search;
};

describe("signing in brings the person back", () => {
  test("qdz topup's link, opened signed out: sign in, pay, and land signed in on the success page at PUBLIC_URL", async () => {
    const user = await newUser(db);
    // What `qdz topup 20` does, with the CLI pointed at 127.0.0.1.
    const checkout = await createClient(cliUrl, user.sessionToken).billing.createCheckout.mutate({ amountCents: 2_000 });
    expect(checkout.url).toBe(`${publicUrl}/dev-checkout/${checkout.id}`);

    const page = await newPage();
    await page.goto(checkout.url);
    await page.waitForURL(`${publicUrl}/login?next=${encodeURIComponent(`/dev-checkout/${checkout.id}`)}`);
    await signIn(page, user);
    await page.waitForURL(checkout.url);
    await page.getByRole("button", { name: "Pay €20.00" }).click();

    // Back on the host the person signed in on: the credit shows, not a sign-in page.
    await page.waitForURL(`${publicUrl}/billing/top-up/success?session_id=${checkout.id}`);
    expect(await seen(page.getByRole("heading", { name: "€20.00 added" }))).toBe(true);
  }, 60_000);

  test("a deep link into the app, query included, comes back after sign-in", async () => {
    const user = await newUser(db);
    const page = await newPage();
    await page.goto(`${publicUrl}/billing?top_up=canceled`);
    await page.waitForURL(`${publicUrl}/login?next=${encodeURIComponent("/billing?top_up=canceled")}`);
    await signIn(page, user);
    // Billing acts on `?top_up=canceled` once (a notice) and then drops it from the URL.
    expect(await seen(page.getByText("Top-up canceled. Nothing was charged."))).toBe(true);
    expect(await seen(page.getByRole("heading", { level: 1, name: "Billing" }))).toBe(true);
    expect(pathOf(page)).toBe("/billing");
  }, 60_000);

  test.each(["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(document.domain)"])(
    "?next=%p is not followed: the app opens instead",
    async (next) => {
      const user = await newUser(db);
      const page = await newPage();
      await page.goto(`${publicUrl}/login?next=${encodeURIComponent(next)}`);
      await signIn(page, user);
      await page.waitForURL(`${publicUrl}/instances`);
      expect(new URL(page.url()).origin).toBe(publicUrl);
    },
    60_000,
  );
});
