/**
 * `qdz balance`, `qdz ledger` and `qdz topup` against the real platform (no
 * Stripe keys, so the development gateway), started once for this file. The
 * test pays or cancels checkouts the way the gateway's page does: its buttons
 * call `billing.completeDevCheckout` with the signed-in user's session.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "../../src/cli/client";
import { CredentialStore } from "../../src/cli/credentials";
import { projectRoot } from "../../src/config";
import { randomBase62 } from "../../src/ids";
import { expectCopy, failed as failedRun, parsed } from "../support/cli-results";
import { type CliResult, type CliRunner, cliRunner, newDataDir, type Platform, removeDataDir, startPlatform, waitUntil } from "../support/platform";

/** Errors come after the progress notes these commands print on stderr. */
const failed = (result: CliResult, exitCode = 1) => failedRun(result, exitCode, { notes: true });

const TIMEOUT = 60_000;
const PASSWORD = "correct horse battery staple";
/** The scheduler's credential, so a test can debit an account into its grace window through `POST /billing/debit`. */
const SCHEDULER_TOKEN = `sched_${randomBase62(40)}`;
const dataDir = newDataDir();
let platform: Platform | undefined;
const runners: CliRunner[] = [];
const background: Bun.Subprocess[] = [];

beforeAll(async () => {
  // Bun runs every test file in one process: the variable is set only while the platform copies its environment.
  const previous = process.env.BILLING_INTERNAL_TOKEN;
  process.env.BILLING_INTERNAL_TOKEN = SCHEDULER_TOKEN;
  try {
    platform = await startPlatform(dataDir);
  } finally {
    if (previous === undefined) delete process.env.BILLING_INTERNAL_TOKEN;
    else process.env.BILLING_INTERNAL_TOKEN = previous;
  }
}, 120_000);

afterAll(async () => {
  for (const child of background) child.kill();
  for (const runner of runners) runner.cleanup();
  try {
    await platform?.stop();
  } finally {
    await removeDataDir(dataDir);
  }
}, 60_000);

/** A new person at a new terminal. */
function newCli(): CliRunner {
  const cli = cliRunner(platform!.url);
  runners.push(cli);
  return cli;
}

/** Signs up through the CLI; returns the account and a tRPC client acting as the same user in the browser. */
async function signUp(cli: CliRunner) {
  const email = `billing-${randomBase62(8).toLowerCase()}@example.com`;
  const user = parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` }));
  const token = new CredentialStore(cli.configDir).get(platform!.url)!.token;
  const browser = createClient(platform!.url, token);
  return { accountId: user.accountId as string, browser };
}

type Browser = Awaited<ReturnType<typeof signUp>>["browser"];

/** `qdz …args` left running, with its stderr readable as it arrives. */
function startCli(cli: CliRunner, args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, QDZ_URL: platform!.url, QDZ_CONFIG_DIR: cli.configDir };
  delete env.QDZ_API_KEY;
  const child = Bun.spawn([process.execPath, "src/cli/bin.ts", ...args], {
    cwd: projectRoot,
    env: env as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  background.push(child);
  let stderr = "";
  const stderrRead = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const stdout = new Response(child.stdout).text();
  return {
    /** The checkout id, from the URL the waiting CLI prints: the id is its last path segment. */
    async checkoutId(): Promise<string> {
      const pattern = new RegExp(`${platform!.url}/dev-checkout/(cs_dev_\\w+)`);
      await waitUntil("the CLI printed the checkout URL", () => pattern.test(stderr), 20_000);
      return pattern.exec(stderr)![1]!;
    },
    /** True while the CLI is still waiting. */
    running: () => child.exitCode === null,
    async result(): Promise<CliResult> {
      const [out, code] = await Promise.all([stdout, child.exited, stderrRead]);
      return { code, stdout: out, stderr };
    },
  };
}

/** Opens a checkout with `qdz topup` and pays it as the gateway's Pay button does. */
async function topUpPaid(cli: CliRunner, browser: Browser, eur: string): Promise<string> {
  const { id } = parsed(await cli(["topup", eur, "--json"]));
  await browser.billing.completeDevCheckout.mutate({ id, outcome: "pay" });
  return id;
}

describe("balance and top-up through the development gateway", () => {
  test(
    "a new account has 0; topup opens a checkout; --wait reports the paid balance; the ledger shows the top-up",
    async () => {
      const cli = newCli();
      const { browser } = await signUp(cli);

      expect(parsed(await cli(["balance", "--json"]))).toEqual({
        balance_cents: 0,
        currency: "eur",
        grace: { active: false, started_at: null, ends_at: null },
        burn_rate_cents_per_hour: 0,
        running_instances: 0,
        runway_seconds: null,
        low_runway: false,
      });
      expect(await cli(["balance"])).toEqual({ code: 0, stdout: "Balance:    €0.00\nBurn rate:  nothing running\nRunway:     -\n", stderr: "" });

      // Without --wait: the checkout's id and URL, and nothing is credited yet.
      const opened = parsed(await cli(["topup", "50", "--json"]));
      expect(Object.keys(opened).sort()).toEqual(["id", "url"]);
      expect(opened.id).toMatch(/^cs_dev_\w+$/);
      expect(opened.url).toBe(`${platform!.url}/dev-checkout/${opened.id}`);
      expectCopy(await browser.billing.checkout.query({ id: opened.id })).toMatchObject({ status: "open", amountCents: 5000, gateway: "dev" });
      const human = await cli(["topup", "50,50"]);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(new RegExp(`^Open this URL to pay: ${platform!.url}/dev-checkout/cs_dev_\\w+\\n$`));
      expect(human.stderr).toContain("qdz balance");

      // --wait: the test pays while the CLI polls.
      const waiting = startCli(cli, ["topup", "25", "--wait", "--json"]);
      const id = await waiting.checkoutId();
      await Bun.sleep(1_500); // at least one poll sees the checkout still open
      expect(waiting.running()).toBe(true);
      const { redirectTo } = await browser.billing.completeDevCheckout.mutate({ id, outcome: "pay" });
      expect(redirectTo).toBe(`${platform!.url}/billing/top-up/success?session_id=${id}`);
      const done = await waiting.result();
      expect(done.code).toBe(0);
      expect(JSON.parse(done.stdout)).toEqual({ id, status: "paid", balance_cents: 2500 });
      // Under --json, stderr holds only where to pay (the person needs it; stdout stays one document).
      expect(done.stderr).toBe(`Open this URL to pay €25.00: ${platform!.url}/dev-checkout/${id}\n`);

      expect(parsed(await cli(["balance", "--json"])).balance_cents).toBe(2500);
      expect((await cli(["balance"])).stdout).toStartWith("Balance:    €25.00\n");

      const ledger = parsed(await cli(["ledger", "--json"]));
      expect(ledger.next_cursor).toBeNull();
      expect(ledger.data).toHaveLength(1);
      expectCopy(ledger.data[0]).toMatchObject({
        id: expect.stringMatching(/^le/),
        kind: "topup",
        amount_cents: 2500,
        currency: "eur",
        reference: id,
        instance_id: null,
      });
      expect(new Date(ledger.data[0].created_at).getTime()).toBeGreaterThan(Date.now() - 120_000);
      expect(parsed(await cli(["ledger", "--kind", "debit", "--json"]))).toEqual({ data: [], next_cursor: null });
      expect(parsed(await cli(["ledger", "--kind", "topup", "--json"])).data).toHaveLength(1);

      const table = await cli(["ledger"]);
      expect(table.code).toBe(0);
      const [header, row, ...rest] = table.stdout.trimEnd().split("\n");
      expect(header).toMatch(/^TIME\s+KIND\s+AMOUNT\s+REFERENCE\s+INSTANCE$/);
      expect(row).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\s+topup\\s+\\+€25\\.00\\s+${id}\\s+-$`));
      expect(rest).toEqual([]);
      expect((await cli(["ledger", "--kind", "debit"])).stdout).toBe("No ledger entries match.\n");
    },
    TIMEOUT,
  );

  test(
    "for people, --wait shows where to pay on stderr and the new balance on stdout",
    async () => {
      const cli = newCli();
      const { browser } = await signUp(cli);
      const waiting = startCli(cli, ["topup", "12,34", "--wait"]);
      const id = await waiting.checkoutId();
      await browser.billing.completeDevCheckout.mutate({ id, outcome: "pay" });
      expect(await waiting.result()).toEqual({
        code: 0,
        stdout: "Paid €12.34. Your balance is €12.34.\n",
        // No spinner: stderr is not a terminal here.
        stderr: `Open this URL to pay €12.34: ${platform!.url}/dev-checkout/${id}\n`,
      });
    },
    TIMEOUT,
  );

  test(
    "a canceled checkout ends --wait with exit 1 and credits nothing",
    async () => {
      const cli = newCli();
      const { browser } = await signUp(cli);
      const waiting = startCli(cli, ["topup", "30", "--wait", "--json"]);
      const id = await waiting.checkoutId();
      await browser.billing.completeDevCheckout.mutate({ id, outcome: "cancel" });
      const error = failed(await waiting.result());
      expect(error).toEqual({ message: "The checkout was canceled; nothing was charged.", code: "CHECKOUT_CANCELED" });
      expect(parsed(await cli(["balance", "--json"])).balance_cents).toBe(0);
      expect(parsed(await cli(["ledger", "--json"])).data).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    "--wait gives up after --timeout with exit 1; the checkout stays open",
    async () => {
      const cli = newCli();
      const { browser } = await signUp(cli);
      const started = Date.now();
      const result = await cli(["topup", "5", "--wait", "--timeout", "1", "--json"]);
      expect(Date.now() - started).toBeLessThan(15_000);
      const error = failed(result);
      expect(error.code).toBe("TIMEOUT");
      expect(error.message).toStartWith("No payment within 1 s. The checkout stays open");
      const id = /dev-checkout\/(cs_dev_\w+)/.exec(result.stderr)![1]!;
      expect((await browser.billing.checkout.query({ id })).status).toBe("open");
    },
    TIMEOUT,
  );
});

describe("top-up amounts", () => {
  test(
    "below the minimum or above the maximum: exit 1 with the server's message",
    async () => {
      const cli = newCli();
      await signUp(cli);
      expect(failed(await cli(["topup", "1", "--json"]))).toEqual({
        message: "A top-up must be between 5.00 € and 10000.00 €.",
        code: "BAD_REQUEST",
      });
      expect(await cli(["topup", "10000.01"])).toEqual({ code: 1, stdout: "", stderr: "error: A top-up must be between 5.00 € and 10000.00 €.\n" });
    },
    TIMEOUT,
  );

  test(
    "amounts the CLI cannot read exactly exit 2 before anything is sent, even signed out",
    async () => {
      const cli = newCli(); // never signed in: a usage error comes before NOT_SIGNED_IN
      const error = failed(await cli(["topup", "12.345", "--json"]), 2);
      expect(error.code).toBe("USAGE");
      expect(error.message).toContain("'12.345' has more than 2 decimals");
      expect(failed(await cli(["topup", "1,000.00", "--json"]), 2).message).toContain("without a thousands separator");
      expect(failed(await cli(["topup", "abc", "--json"]), 2).message).toContain("is not an amount in EUR");
      expect(failed(await cli(["topup", "--json", "--", "-5"]), 2).message).toContain("is negative");
      expect(failed(await cli(["topup", "-5", "--json"]), 2).code).toBe("USAGE"); // commander reads it as an unknown option
      const human = await cli(["topup", "12.345"]);
      expect(human).toEqual({ code: 2, stdout: "", stderr: expect.stringMatching(/^error: '12\.345' has more than 2 decimals/) });
      expect(failed(await cli(["topup", "5", "--wait", "--timeout", "0", "--json"]), 2).code).toBe("USAGE");
    },
    TIMEOUT,
  );
});

describe("ledger", () => {
  test(
    "pages with --limit and the cursor the hint gives",
    async () => {
      const cli = newCli();
      const { browser } = await signUp(cli);
      const first = await topUpPaid(cli, browser, "5");
      const second = await topUpPaid(cli, browser, "7.5");

      const page1 = parsed(await cli(["ledger", "--limit", "1", "--json"]));
      expect(page1.data.map((entry: any) => [entry.reference, entry.amount_cents])).toEqual([[second, 750]]);
      expect(page1.next_cursor).toEqual(expect.any(String));

      const human = await cli(["ledger", "--limit", "1", "--kind", "topup"]);
      expect(human.code).toBe(0);
      expect(human.stderr).toBe(`More entries: qdz ledger --kind topup --limit 1 --cursor ${page1.next_cursor}\n`);

      const page2 = parsed(await cli(["ledger", "--limit", "1", "--cursor", page1.next_cursor, "--json"]));
      expect(page2.data.map((entry: any) => [entry.reference, entry.amount_cents])).toEqual([[first, 500]]);
      expect(page2.next_cursor).toBeNull();

      expect(parsed(await cli(["ledger", "--instance", "inst_nothing", "--json"]))).toEqual({ data: [], next_cursor: null });
      expect(failed(await cli(["ledger", "--cursor", "not-a-cursor", "--json"])).message).toBe("This cursor is not one the ledger gave out.");
      expect(failed(await cli(["ledger", "--limit", "0", "--json"]), 2).code).toBe("USAGE");
      expect(failed(await cli(["ledger", "--kind", "gift", "--json"]), 2).message).toContain("topup, debit, refund, adjustment");
    },
    TIMEOUT,
  );
});

describe("grace window", () => {
  test(
    "a negative balance prints a warning with when running instances get stopped; a top-up ends it",
    async () => {
      const cli = newCli();
      const { accountId, browser } = await signUp(cli);
      const debit = await fetch(`${platform!.url}/billing/debit`, {
        method: "POST",
        headers: { authorization: `Bearer ${SCHEDULER_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ account_id: accountId, amount_cents: 375, reference: `test:${randomBase62(8)}` }),
      });
      expect(debit.status).toBe(200);

      const summary = parsed(await cli(["balance", "--json"]));
      expect(summary.balance_cents).toBe(-375);
      expect(summary.grace.active).toBe(true);
      expect(new Date(summary.grace.ends_at).getTime() - new Date(summary.grace.started_at).getTime()).toBe(24 * 3_600_000);

      const human = await cli(["balance"]);
      expect(human.code).toBe(0);
      expect(human.stdout).toStartWith("Balance:    -€3.75\nBurn rate:  nothing running\n");
      const endsAt = `${new Date(summary.grace.ends_at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
      expect(human.stderr).toBe(
        `warning: your balance is negative, so new launches are paused. Running instances are stopped at ${endsAt} ` +
          "unless you top up to at least €0.00 before then (`qdz topup <eur>`).\n",
      );

      const table = (await cli(["ledger", "--kind", "debit"])).stdout;
      expect(table).toContain("-€3.75");

      await topUpPaid(cli, browser, "5");
      expect(parsed(await cli(["balance", "--json"]))).toEqual({
        balance_cents: 125,
        currency: "eur",
        grace: { active: false, started_at: null, ends_at: null },
        burn_rate_cents_per_hour: 0,
        running_instances: 0,
        runway_seconds: null,
        low_runway: false,
      });
      expect(await cli(["balance"])).toEqual({ code: 0, stdout: "Balance:    €1.25\nBurn rate:  nothing running\nRunway:     -\n", stderr: "" });
    },
    TIMEOUT,
  );

  test(
    "balance and ledger need a credential",
    async () => {
      const cli = newCli();
      for (const command of [["balance"], ["ledger"], ["topup", "5"]]) {
        expect(failed(await cli([...command, "--json"]))).toEqual({ message: "Not signed in. Run `qdz login` (or set QDZ_API_KEY).", code: "NOT_SIGNED_IN" });
      }
    },
    TIMEOUT,
  );
});
