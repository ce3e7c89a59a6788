/**
 * `qdz budgets` and `qdz notifications` against the real platform (supervisor,
 * api, workers), started once for this file on a fresh test database, so the
 * test can write what no command makes: instance rows (no pod is launched) and
 * alerts raised through `notify()`, as the spend watcher raises them.
 */
import { describe, expect, test } from "bun:test";
import { randomBase62 } from "../../src/ids";
import type { JobQueue } from "../../src/jobs/queue";
import { type Alert, notify } from "../../src/notifications/notify";
import { failed, parsed } from "../support/cli-results";
import { freshDatabase } from "../support/db";
import { insertInstanceRow } from "../support/factories";
import { type CliResult, type CliRunner, platformForFile } from "../support/platform";

const TIMEOUT = 60_000;
const PASSWORD = "correct horse battery staple";
const database = await freshDatabase();
const { db } = database;
const platform = platformForFile({ env: { DATABASE_URL: database.url, DATABASE_OWNER_URL: database.ownerUrl } });
/** No webhook endpoint is set in this file, so `notify()` never enqueues a delivery. */
const noDeliveries: JobQueue = { send: async () => null };

/** A new person at a new terminal, signed up; with their account's id. */
async function signedUpCli(): Promise<{ cli: CliRunner; accountId: string }> {
  const cli = platform.cli();
  const email = `spend-${randomBase62(8).toLowerCase()}@example.com`;
  const user = parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` }));
  return { cli, accountId: user.accountId };
}

/** A successful run for people: exit 0, its stdout. */
function human(result: CliResult): string {
  expect(result.code).toBe(0);
  return result.stdout;
}

/** The start of the next UTC month: when every budget's spend starts again from zero. */
function nextMonth(): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

const resets = () => `${nextMonth().toISOString().slice(0, 16).replace("T", " ")} UTC`;

describe("budgets", () => {
  test(
    "set the account's budget, list it as a table and as JSON in exact cents, change it, remove it",
    async () => {
      const { cli } = await signedUpCli();
      expect(parsed(await cli(["budgets", "--json"]))).toEqual({ account: null, instances: [] });
      expect(human(await cli(["budgets"]))).toBe("No budgets yet. Set one with `qdz budgets set <eur>` (add --instance <id> for one instance).\n");

      const set = await cli(["budgets", "set", "200.50", "--stop-running"]);
      expect(human(set)).toBe(
        `Set the monthly budget of the account to €200.50: €0.00 spent this month (0 %), resets ${resets()}.\n` +
          "At 100 % new launches are refused and running instances stop.\n",
      );
      expect(set.stderr).toBe("You are alerted at 50 %, 80 % and 100 % (`qdz notifications`).\n");

      const listed = parsed(await cli(["budgets", "--json"]));
      expect(listed).toEqual({
        account: {
          id: expect.stringMatching(/^bud_/),
          scope: "account",
          instance_id: null,
          instance_name: null,
          monthly_cents: 20_050,
          currency: "eur",
          stop_running: true,
          spent_cents: 0,
          percent: 0,
          resets_at: nextMonth().toISOString(),
        },
        instances: [],
      });
      expect(human(await cli(["budgets"]))).toBe(
        [
          "SCOPE    INSTANCE  BUDGET   SPENT THIS MONTH  PERCENT  RESETS                AT 100 %",
          `account  -         €200.50  €0.00             0 %      ${resets()}  refuses launches, stops running`,
          "",
        ].join("\n"),
      );
      // `list` is the same as the bare command.
      expect(parsed(await cli(["budgets", "list", "--json"]))).toEqual(listed);

      // Setting it again changes the one budget: without --stop-running, running instances keep running.
      const changed = await cli(["budgets", "set", "€300"]);
      expect(human(changed)).toContain("Set the monthly budget of the account to €300.00:");
      expect(changed.stdout).toContain("At 100 % new launches are refused; running instances keep running (--stop-running stops them too).");
      const again = parsed(await cli(["budgets", "--json"]));
      expect(again.account).toMatchObject({ id: listed.account.id, monthly_cents: 30_000, stop_running: false });

      expect(human(await cli(["budgets", "remove"]))).toBe("The account has no monthly budget now.\n");
      expect(parsed(await cli(["budgets", "--json"]))).toEqual({ account: null, instances: [] });
      // Removing it again does nothing, and says what holds.
      expect(parsed(await cli(["budgets", "remove", "--json"]))).toEqual({ instance_id: null, removed: true });
    },
    TIMEOUT,
  );

  test(
    "a bad amount is refused naming it (exit 2, nothing sent); below €1.00 the api refuses it, named as the amount; --stop-running with --instance is refused",
    async () => {
      const { cli, accountId } = await signedUpCli();
      const instanceId = await insertInstanceRow(db, { accountId, name: "llama", state: "stopped" });

      expect(failed(await cli(["budgets", "set", "abc", "--json"]), 2)).toEqual({
        message: "amount: 'abc' is not an amount in EUR. Write it like 50, 50.5 or 50,50.",
        code: "USAGE",
      });
      expect(failed(await cli(["budgets", "set", "0", "--json"]), 2)).toEqual({
        message: "amount '0' is zero. A monthly budget is a positive amount in EUR, such as 200.",
        code: "USAGE",
      });
      expect(failed(await cli(["budgets", "set", "-5", "--json"]), 2)).toEqual({
        message: "amount '-5' is negative. A monthly budget is a positive amount in EUR, such as 200.",
        code: "USAGE",
      });
      expect(failed(await cli(["budgets", "set", "1,000.00", "--json"]), 2).message).toStartWith("amount: '1,000.00' has more than one separator.");
      // Without --json, the same refusal as one line for people.
      expect(await cli(["budgets", "set", "abc"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: amount: 'abc' is not an amount in EUR. Write it like 50, 50.5 or 50,50.\n",
      });

      expect(failed(await cli(["budgets", "set", "0.50", "--json"]))).toEqual({
        message: "amount '0.50': Monthly budget must be at least €1.00.",
        code: "BAD_REQUEST",
      });

      const refused = failed(await cli(["budgets", "set", "50", "--instance", instanceId, "--stop-running", "--json"]), 2);
      expect(refused.code).toBe("USAGE");
      expect(refused.message).toStartWith("--stop-running is for the account's budget only");

      expect(parsed(await cli(["budgets", "--json"]))).toEqual({ account: null, instances: [] });
    },
    TIMEOUT,
  );

  test(
    "an instance's budget, set by name and by id, listed with its name, then removed; names must be of exactly one instance of this account",
    async () => {
      const { cli, accountId } = await signedUpCli();
      const instanceId = await insertInstanceRow(db, { accountId, name: "llama-budget", state: "stopped" });

      const set = await cli(["budgets", "set", "50", "--instance", "llama-budget"]);
      expect(human(set)).toBe(
        `Set the monthly budget of instance llama-budget (${instanceId}) to €50.00: €0.00 spent this month (0 %), resets ${resets()}.\n` +
          "At 100 % this instance stops, and it cannot start again this month unless its budget is raised.\n",
      );
      expect(parsed(await cli(["budgets", "--json"]))).toEqual({
        account: null,
        instances: [
          {
            id: expect.stringMatching(/^bud_/),
            scope: "instance",
            instance_id: instanceId,
            instance_name: "llama-budget",
            monthly_cents: 5_000,
            currency: "eur",
            stop_running: false,
            spent_cents: 0,
            percent: 0,
            resets_at: nextMonth().toISOString(),
          },
        ],
      });

      // By id, the same budget changes; the account's budget sits beside it in the table.
      expect(parsed(await cli(["budgets", "set", "75.25", "--instance", instanceId, "--json"]))).toMatchObject({
        instance_id: instanceId,
        monthly_cents: 7_525,
      });
      human(await cli(["budgets", "set", "500"]));
      const table = human(await cli(["budgets"])).split("\n");
      expect(table[0]).toBe("SCOPE     INSTANCE                                  BUDGET   SPENT THIS MONTH  PERCENT  RESETS                AT 100 %");
      expect(table[1]).toStartWith("account   -  ");
      expect(table[1]).toEndWith("refuses launches");
      expect(table[2]).toBe(`instance  llama-budget (${instanceId})  €75.25   €0.00             0 %      ${resets()}  stops it`);

      // Two instances of one name: the id is asked for. Another account's instance is not found, as a missing one.
      const twins = [
        await insertInstanceRow(db, { accountId, name: "twin", state: "stopped" }),
        await insertInstanceRow(db, { accountId, name: "twin", state: "stopped" }),
      ];
      const ambiguous = failed(await cli(["budgets", "set", "10", "--instance", "twin", "--json"]), 2);
      expect(ambiguous.message).toStartWith("--instance: 2 instances are named 'twin'");
      for (const twin of twins) expect(ambiguous.message).toContain(twin);
      const other = await signedUpCli();
      const foreign = await insertInstanceRow(db, { accountId: other.accountId, name: "theirs", state: "stopped" });
      for (const given of [foreign, "theirs"]) {
        expect(failed(await cli(["budgets", "set", "10", "--instance", given, "--json"]))).toEqual({
          message: `--instance: no instance '${given}' in this account. \`qdz instances list\` lists them.`,
          code: "NOT_FOUND",
        });
      }
      expect(failed(await cli(["budgets", "remove", "--instance", foreign, "--json"])).code).toBe("NOT_FOUND");

      expect(human(await cli(["budgets", "remove", "--instance", instanceId]))).toBe(`Instance ${instanceId} has no monthly budget now.\n`);
      const left = parsed(await cli(["budgets", "--json"]));
      expect(left.instances).toEqual([]);
      expect(left.account.monthly_cents).toBe(50_000);
      expect(parsed(await other.cli(["budgets", "--json"]))).toEqual({ account: null, instances: [] });
    },
    TIMEOUT,
  );
});

describe("notifications", () => {
  const runway = (accountId: string): Alert => ({
    kind: "runway",
    dedupKey: `runway:1:${randomBase62(6)}`,
    severity: "warning",
    title: "Balance lasts less than 24 hours",
    body: "At €2.80/h your balance of €50.00 lasts about 17 hours.",
    data: { runway_hours: 17, account: accountId },
  });
  const budget = (instanceId: string): Alert => ({
    kind: "budget",
    dedupKey: `budget:test:${randomBase62(6)}`,
    severity: "critical",
    title: "Budget of llama used up",
    body: "€50.00 of €50.00 spent this month.\nIt was stopped.",
    instanceId,
    data: { percent: 100, budget_cents: 5_000, spent_cents: 5_000 },
  });

  test(
    "list them newest first with the unread count, page through them, mark one read, then all",
    async () => {
      const { cli, accountId } = await signedUpCli();
      expect(parsed(await cli(["notifications", "--json"]))).toEqual({ data: [], unread: 0, next_cursor: null });
      expect(await cli(["notifications"])).toEqual({ code: 0, stdout: "No unread notifications.\nNo notifications yet.\n", stderr: "" });

      const instanceId = await insertInstanceRow(db, { accountId, name: "llama", state: "stopped" });
      const older = (await notify(db, noDeliveries, accountId, runway(accountId)))!;
      const newer = (await notify(db, noDeliveries, accountId, budget(instanceId)))!;

      const page = parsed(await cli(["notifications", "--json"]));
      expect(page).toEqual({
        data: [
          {
            id: newer.id,
            kind: "budget",
            severity: "critical",
            title: "Budget of llama used up",
            body: "€50.00 of €50.00 spent this month.\nIt was stopped.",
            instance_id: instanceId,
            data: { percent: 100, budget_cents: 5_000, spent_cents: 5_000 },
            created_at: newer.createdAt.toISOString(),
            read_at: null,
          },
          {
            id: older.id,
            kind: "runway",
            severity: "warning",
            title: "Balance lasts less than 24 hours",
            body: "At €2.80/h your balance of €50.00 lasts about 17 hours.",
            instance_id: null,
            data: { runway_hours: 17, account: accountId },
            created_at: older.createdAt.toISOString(),
            read_at: null,
          },
        ],
        unread: 2,
        next_cursor: null,
      });

      const listed = await cli(["notifications"]);
      const time = (at: Date) => `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
      expect(human(listed)).toBe(
        [
          "2 unread notifications.",
          "",
          `${newer.id}  ${time(newer.createdAt)}  critical  unread`,
          "  Budget of llama used up",
          "  €50.00 of €50.00 spent this month.",
          "  It was stopped.",
          "",
          `${older.id}  ${time(older.createdAt)}  warning  unread`,
          "  Balance lasts less than 24 hours",
          "  At €2.80/h your balance of €50.00 lasts about 17 hours.",
          "",
        ].join("\n"),
      );
      expect(listed.stderr).toBe("Mark them read with `qdz notifications read <id>…` or `qdz notifications read --all`.\n");

      // One a page: the hint gives the next page's command, which holds the other.
      const first = await cli(["notifications", "--limit", "1"]);
      expect(human(first)).toContain(newer.id);
      const hint = /^More notifications: qdz notifications --limit 1 --cursor (\S+)$/m.exec(first.stderr);
      expect(hint).not.toBeNull();
      const second = parsed(await cli(["notifications", "--limit", "1", "--cursor", hint![1]!, "--json"]));
      expect(second.data.map((n: { id: string }) => n.id)).toEqual([older.id]);
      expect(second.next_cursor).toBeNull();

      expect(human(await cli(["notifications", "read", newer.id]))).toBe(`Marked ${newer.id} read. 1 unread notification.\n`);
      const unread = parsed(await cli(["notifications", "--unread", "--json"]));
      expect(unread.data.map((n: { id: string }) => n.id)).toEqual([older.id]);
      expect(unread.unread).toBe(1);
      const all = parsed(await cli(["notifications", "--json"]));
      expect(all.data[0].read_at).toEqual(expect.any(String));

      expect(parsed(await cli(["notifications", "read", "--all", "--json"]))).toEqual({ unread: 0 });
      expect(await cli(["notifications", "--unread"])).toEqual({ code: 0, stdout: "No unread notifications.\n", stderr: "" });
      const after = await cli(["notifications"]);
      expect(human(after)).toStartWith(`No unread notifications.\n\n${newer.id}  ${time(newer.createdAt)}  critical\n`);
      expect(after.stderr).toBe("");
      // Another account sees none of them, and cannot mark them.
      const other = await signedUpCli();
      expect(parsed(await other.cli(["notifications", "--json"]))).toEqual({ data: [], unread: 0, next_cursor: null });
    },
    TIMEOUT,
  );

  test(
    "read needs ids or --all, not both (exit 2)",
    async () => {
      const { cli } = await signedUpCli();
      expect(failed(await cli(["notifications", "read", "--json"]), 2)).toEqual({
        message: "Name the notifications to mark read (ids from `qdz notifications`), or pass --all.",
        code: "USAGE",
      });
      expect(failed(await cli(["notifications", "read", "ntf_x", "--all", "--json"]), 2)).toEqual({ message: "Give ids or --all, not both.", code: "USAGE" });
      expect(failed(await cli(["notifications", "--limit", "0", "--json"]), 2).code).toBe("USAGE");
    },
    TIMEOUT,
  );
});
