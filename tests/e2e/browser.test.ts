/**
 * The web app in a real browser (Debian's chromium through playwright-core)
 * against the real api on a fresh database: what a person sees and clicks.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import type { Page } from "playwright-core";
import sshpk from "sshpk";
import { randomBase62 } from "../../src/ids";
import { browserForFile, seen, startWebServer, type WebServer } from "../support/browser";

// At the top level: the fresh database's own clean-up is registered for this file.
const server: WebServer = await startWebServer();
const { newPage } = browserForFile();

afterAll(async () => {
  await server.stop();
});

const NAV_ITEMS = ["Instances", "Usage", "Billing", "API keys", "SSH keys", "Firewalls", "Account"];
const PASSWORD = "correct horse battery staple";

function newEmail(who: string) {
  return `${who}-${randomBase62(6).toLowerCase()}@example.com`;
}

/** Fills the sign-up form on the current page (plain or with ?invite=) and submits it. */
async function fillSignUp(page: Page, email: string, accountName?: string) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  if (accountName) await page.getByLabel("Account name (optional)").fill(accountName);
  await page.getByRole("button", { name: "Create account" }).click();
}

async function signUp(page: Page, email: string, accountName?: string) {
  await page.goto(`${server.url}/signup`);
  await fillSignUp(page, email, accountName);
  await page.waitForURL("**/instances");
}

async function goToSection(page: Page, name: string, path: string) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
  await page.waitForURL(`**${path}`);
  await seen(page.getByRole("heading", { level: 1, name }));
}

describe("browser", () => {
  test("sign up, create an API key shown once, revoke it, sign out and back in", async () => {
    const page = await newPage();
    const email = newEmail("ada");
    await signUp(page, email);

    const nav = page.getByRole("navigation", { name: "Main" });
    for (const item of NAV_ITEMS) expect(await seen(nav.getByRole("link", { name: item }))).toBe(true);
    expect(await seen(page.getByRole("heading", { name: "No instances yet" }))).toBe(true);
    expect(await seen(page.getByRole("link", { name: "Launch instance" }).first())).toBe(true);

    await goToSection(page, "API keys", "/api-keys");
    await seen(page.getByText("No API keys yet"));
    await page.getByRole("button", { name: "Create key" }).first().click();
    const createDialog = page.getByRole("dialog", { name: "Create API key" });
    await createDialog.getByLabel("Name").fill("ci");
    await createDialog.getByRole("button", { name: "Create key" }).click();

    const secretDialog = page.getByRole("dialog", { name: "Your new API key" });
    await seen(secretDialog.getByText("It will not be shown again"));
    const secret = await secretDialog.getByLabel("API key").inputValue();
    expect(secret).toMatch(/^qdz_[0-9A-Za-z]{43}$/);
    expect(await seen(secretDialog.getByRole("button", { name: "Copy" }))).toBe(true);
    await secretDialog.getByRole("button", { name: "I have saved my key" }).click();
    await secretDialog.waitFor({ state: "hidden" });

    await page.reload();
    const row = page.getByRole("row").filter({ hasText: "ci" });
    await seen(row.getByText(`${secret.slice(0, 12)}…`));
    expect(await page.content()).not.toContain(secret);
    expect(await row.getByText("never").isVisible()).toBe(true);
    expect(await row.getByText("active").isVisible()).toBe(true);
    // Requests made with the key: none yet.
    expect(await page.getByRole("columnheader", { name: "Requests" }).isVisible()).toBe(true);
    expect(await row.getByRole("cell", { name: "0", exact: true }).isVisible()).toBe(true);

    await row.getByRole("button", { name: "Revoke ci" }).click();
    const confirm = page.getByRole("dialog", { name: "Revoke API key" });
    await confirm.getByRole("button", { name: "Revoke key" }).click();
    expect(await seen(row.getByText("revoked"))).toBe(true);
    expect(await row.getByRole("button", { name: "Revoke ci" }).count()).toBe(0);

    await page.getByLabel(`User menu for ${email}`).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/login");
    await page.goto(server.url);
    await page.waitForURL("**/login");
    await page.goto(`${server.url}/api-keys`);
    await page.waitForURL("**/login?next=%2Fapi-keys");

    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill("not my password");
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await seen(page.getByRole("alert").getByText("Email or password is incorrect."))).toBe(true);

    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL("**/api-keys");
    expect(await seen(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Instances" }))).toBe(true);
    expect(await seen(page.getByRole("row").filter({ hasText: "ci" }).getByText("revoked"))).toBe(true);
  }, 60_000);

  test("the create dialog picks a key's scope, inference by default; the list shows it", async () => {
    const page = await newPage();
    await signUp(page, newEmail("grace"));
    await goToSection(page, "API keys", "/api-keys");
    await page.getByRole("button", { name: "Create key" }).first().click();
    const createDialog = page.getByRole("dialog", { name: "Create API key" });
    expect(await createDialog.getByRole("radio", { name: /^Inference/ }).isChecked()).toBe(true);
    await createDialog.getByLabel("Name").fill("dashboard");
    await createDialog.getByRole("radio", { name: /^Read/ }).check();
    await createDialog.getByRole("button", { name: "Create key" }).click();

    const secretDialog = page.getByRole("dialog", { name: "Your new API key" });
    await secretDialog.getByRole("button", { name: "I have saved my key" }).click();
    await secretDialog.waitFor({ state: "hidden" });
    expect(await page.getByRole("columnheader", { name: "Scope" }).isVisible()).toBe(true);
    expect(await seen(page.getByRole("row").filter({ hasText: "dashboard" }).getByRole("cell", { name: "read", exact: true }))).toBe(true);
  }, 60_000);

  test("an owner invites someone by link; they sign up through it and join the owner's account", async () => {
    const owner = await newPage();
    const ownerEmail = newEmail("owner");
    await signUp(owner, ownerEmail, "Acme Research");
    await goToSection(owner, "Account", "/account");
    await seen(owner.getByText("No pending invites"));

    await owner.getByRole("button", { name: "Invite member" }).click();
    const inviteDialog = owner.getByRole("dialog", { name: "Invite member" });
    await inviteDialog.getByLabel("Email (optional)").fill("grace@example.com");
    await inviteDialog.getByRole("button", { name: "Create invite link" }).click();
    const ready = owner.getByRole("dialog", { name: "Invite link ready" });
    await seen(ready.getByText("No email is sent"));
    const link = await ready.getByLabel("Invite link").inputValue();
    expect(link).toMatch(new RegExp(`^${server.url.replaceAll(".", "\\.")}/invite/qdzi_[0-9A-Za-z]{43}$`));
    await ready.getByRole("button", { name: "Done" }).click();
    await seen(owner.getByRole("row").filter({ hasText: "grace@example.com" }));

    const invitee = await newPage();
    const inviteeEmail = newEmail("grace");
    await invitee.goto(link);
    await seen(invitee.getByRole("heading", { name: "You're invited" }));
    expect(await seen(invitee.getByText("Acme Research"))).toBe(true);
    expect(await seen(invitee.getByText(ownerEmail))).toBe(true);
    await invitee.getByRole("link", { name: "Create an account to join" }).click();
    await invitee.waitForURL("**/signup?invite=*");
    await seen(invitee.getByText("invited you to join"));
    await fillSignUp(invitee, inviteeEmail);
    await invitee.waitForURL("**/instances");
    // Now in two accounts, and working in the one they joined.
    const switcher = invitee.getByLabel("Switch account");
    await seen(switcher.getByText("Acme Research"));
    await switcher.click();
    const ownAccount = invitee.getByRole("button", { name: /'s account/ });
    await seen(ownAccount);
    await seen(invitee.getByRole("button", { name: /Acme Research/ }));
    await invitee.keyboard.press("Escape");
    await ownAccount.waitFor({ state: "hidden" });

    await goToSection(invitee, "Account", "/account");
    const inviteeRow = invitee.getByRole("row").filter({ hasText: inviteeEmail });
    await seen(inviteeRow.getByText("member", { exact: true }));
    // A member sees the members read-only: no role select, no remove, no invites.
    const members = invitee.locator("section").filter({ has: invitee.getByRole("heading", { name: "Members", exact: true }) });
    await seen(members);
    expect(await members.getByRole("combobox").count()).toBe(0);
    expect(await invitee.getByRole("button", { name: "Invite member" }).count()).toBe(0);

    // Switching to their own account reloads the page's data: there they are the owner.
    await switcher.click();
    await ownAccount.click();
    await seen(switcher.getByText(/'s account/));
    await seen(invitee.getByRole("button", { name: "Invite member" }));
    expect(await invitee.getByRole("row").filter({ hasText: ownerEmail }).count()).toBe(0);

    await owner.reload();
    const memberRow = owner.getByRole("row").filter({ hasText: inviteeEmail });
    await seen(memberRow);
    expect(await memberRow.getByLabel(`Role of ${inviteeEmail}`).inputValue()).toBe("member");
    expect(await seen(owner.getByText("No pending invites"))).toBe(true);

    // The last owner cannot demote themselves: the server's refusal is shown.
    await owner.getByLabel(`Role of ${ownerEmail}`).selectOption("member");
    expect(await seen(owner.getByRole("alert").getByText("An account needs at least one owner"))).toBe(true);
    expect(await owner.getByLabel(`Role of ${ownerEmail}`).inputValue()).toBe("owner");
  }, 60_000);

  test("SSH keys: a bad key is explained under the field; a valid ed25519 key is listed and removed", async () => {
    const page = await newPage();
    await signUp(page, newEmail("linus"));
    await goToSection(page, "SSH keys", "/ssh-keys");
    await seen(page.getByText("No SSH keys yet"));

    await page.getByRole("button", { name: "Add key" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Add SSH key" });
    const field = dialog.getByLabel("Public key");
    await field.fill("ssh-ed25519 this-is-not-a-key me@laptop");
    await dialog.getByRole("button", { name: "Add key" }).click();
    expect(await seen(dialog.getByText("This is not a valid SSH public key"))).toBe(true);
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    // The message is tied to the field, for screen readers too.
    const describedBy = await field.getAttribute("aria-describedby");
    expect(await dialog.locator(`[id="${describedBy}"]`).textContent()).toContain("This is not a valid SSH public key");

    const { publicKey } = generateKeyPairSync("ed25519");
    const key = sshpk.parseKey(publicKey.export({ type: "spki", format: "pem" }) as string, "pem");
    key.comment = "ci@laptop";
    const fingerprint = key.fingerprint("sha256").toString();
    await field.fill(key.toString("ssh"));
    await dialog.getByRole("button", { name: "Add key" }).click();
    await dialog.waitFor({ state: "hidden" });

    const row = page.getByRole("row").filter({ hasText: "ci@laptop" });
    expect(await seen(row.getByText(fingerprint))).toBe(true);
    expect(fingerprint).toMatch(/^SHA256:/);
    expect(await row.getByText("ssh-ed25519").isVisible()).toBe(true);

    await row.getByRole("button", { name: "Remove ci@laptop" }).click();
    await page.getByRole("dialog", { name: "Remove SSH key" }).getByRole("button", { name: "Remove key" }).click();
    expect(await seen(page.getByText("No SSH keys yet"))).toBe(true);
    expect(await page.getByText(fingerprint).count()).toBe(0);
  }, 60_000);
});
