/**
 * `qdz schedules` against the real platform (supervisor, api, workers) on a fresh test database, with the
 * scheduler looking every second (SCHEDULE_POLL_SECONDS=1) and a 5 s billing tick. Rules are made with the CLI;
 * the test writes only what no command makes: bare instance rows, and a rule's `next_run_at` moved a few seconds
 * ahead (or back) so a due time comes now instead of at the cron's next match. The scheduler then fires it through
 * the normal start/stop verbs. The last test stops a real reference instance (agent + runtime pod) that way.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { createClient } from "../../src/cli/client";
import { CredentialStore } from "../../src/cli/credentials";
import { randomBase62 } from "../../src/ids";
import { browserForFile, seen, signInInBrowser } from "../support/browser";
import { expectCopy, failed, parsed } from "../support/cli-results";
import { freshDatabase } from "../support/db";
import { insertInstanceRow } from "../support/factories";
import { type CliResult, type CliRunner, platformForFile, waitUntil } from "../support/platform";

const TIMEOUT = 60_000;
const PASSWORD = "correct horse battery staple";
const BILLING_TICK_SECONDS = 5;
const database = await freshDatabase();
const { db } = database;
const { newPage } = browserForFile();
const platform = platformForFile({
  env: {
    DATABASE_URL: database.url,
    DATABASE_OWNER_URL: database.ownerUrl,
    SCHEDULE_POLL_SECONDS: "1",
    BILLING_TICK_SECONDS: String(BILLING_TICK_SECONDS),
  },
});

/** A new person at a new terminal, signed up; with their email, account's id and the session token. */
async function signedUpCli(): Promise<{ cli: CliRunner; email: string; accountId: string; token: string }> {
  const cli = platform.cli();
  const email = `schedules-${randomBase62(8).toLowerCase()}@example.com`;
  const user = parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` }));
  return { cli, email, accountId: user.accountId, token: new CredentialStore(cli.configDir).get(platform.url)!.token };
}

/** A successful run for people: exit 0, its stdout. */
function human(result: CliResult): string {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return result.stdout;
}

/** How the CLI writes a time in a zone: `Mon 2026-03-02 19:00 +01:00`. */
function zoned(iso: string, zone: string, offset = true): string {
  const at = Temporal.Instant.from(iso).toZonedDateTimeISO(zone);
  const text = `${at.toLocaleString("en-US", { weekday: "short" })} ${at.toPlainDate()} ${at.toPlainTime().toString({ smallestUnit: "minute" })}`;
  return offset ? `${text} ${at.offset}` : text;
}

/** Moves a rule's next due time to `seconds` from the database's now (negative: in the past); returns it. */
async function dueIn(ruleId: string, seconds: number): Promise<Date> {
  const [row] = await db.execute<{ due: string }>(
    sql`update schedule_rules set next_run_at = now() + make_interval(secs => ${seconds}) where id = ${ruleId} returning next_run_at::text as due`,
  );
  return new Date(row!.due);
}

async function historyOf(cli: CliRunner, instance: string, extra: string[] = []) {
  return parsed(await cli(["schedules", "history", instance, ...extra, "--json"]));
}

describe("rules", () => {
  test(
    "add by name (in this machine's zone by default, saying so) and by id, list for people and as JSON, disable, enable, remove",
    async () => {
      const { cli, accountId } = await signedUpCli();
      const instanceId = await insertInstanceRow(db, { accountId, name: "llama", state: "stopped" });
      // This machine is in New York; the rules below are read in New York and in Berlin.
      const here = { env: { TZ: "America/New_York" } };

      expect(parsed(await cli(["schedules", "list", "llama", "--json"]))).toEqual({ instance_id: instanceId, data: [] });
      expect(human(await cli(["schedules", "list", instanceId]))).toBe(
        `llama (${instanceId}) has no schedule rules. Add one with \`qdz schedules add ${instanceId} --stop --cron "0 19 * * 1-5"\`.\n`,
      );

      // No --tz: the machine's zone, and a note on stderr that says so.
      const added = await cli(["schedules", "add", "llama", "--stop", "--cron", "0 19 * * 1-5", "--note", "office hours"], here);
      expect(added.code).toBe(0);
      expect(added.stderr).toBe("No --tz given: the rule runs in this machine's time zone, America/New_York.\n");
      const stopRule = parsed(await cli(["schedules", "list", "llama", "--json"])).data[0];
      expectCopy(stopRule).toEqual({
        id: expect.stringMatching(/^sch_/),
        instance_id: instanceId,
        action: "stop",
        cron: "0 19 * * 1-5",
        time_zone: "America/New_York",
        enabled: true,
        note: "office hours",
        description: "At 19:00, Monday through Friday",
        next_run_at: expect.any(String),
        upcoming: [expect.any(String), expect.any(String), expect.any(String)],
        last_execution: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(stopRule.upcoming[0]).toBe(stopRule.next_run_at);
      for (const at of stopRule.upcoming) expect(zoned(at, "America/New_York")).toMatch(/^(Mon|Tue|Wed|Thu|Fri) \d{4}-\d\d-\d\d 19:00 -0[45]:00$/);
      expect(added.stdout).toBe(
        [
          `Added rule ${stopRule.id} to llama (${instanceId}).`,
          "",
          `${stopRule.id}  stop  enabled`,
          "  when:       At 19:00, Monday through Friday (0 19 * * 1-5)",
          "  time zone:  America/New_York",
          ...stopRule.upcoming.map((at: string, i: number) => `  ${i === 0 ? "next runs:" : "          "}  ${zoned(at, "America/New_York")}`),
          "  last run:   never",
          "  note:       office hours",
          "",
        ].join("\n"),
      );

      // By id, in Berlin, a start rule added switched off: JSON says so, and the zone is as given (canonical spelling).
      const startRule = parsed(
        await cli(["schedules", "add", instanceId, "--start", "--cron", "30 7 * * 1-5", "--tz", "europe/berlin", "--disabled", "--json"]),
      );
      expectCopy(startRule).toMatchObject({ action: "start", time_zone: "Europe/Berlin", enabled: false, next_run_at: null, upcoming: [], note: null });

      // Enabled, its next runs are shown in Berlin, and beside each the time here, in New York.
      const enabled = parsed(await cli(["schedules", "enable", startRule.id, "--json"]));
      expectCopy(enabled).toMatchObject({ id: startRule.id, enabled: true, next_run_at: expect.any(String) });
      const listed = human(await cli(["schedules", "list", "llama"], here));
      expect(listed).toStartWith(`Schedule rules of llama (${instanceId}):\n\n${stopRule.id}  stop  enabled\n`);
      const berlin = enabled.upcoming.map((at: string) => `${zoned(at, "Europe/Berlin")} (${zoned(at, "America/New_York", false)} America/New_York)`);
      expect(listed).toContain(
        [
          `${startRule.id}  start  enabled`,
          "  when:       At 07:30, Monday through Friday (30 7 * * 1-5)",
          "  time zone:  Europe/Berlin",
          `  next runs:  ${berlin[0]}`,
          `              ${berlin[1]}`,
          `              ${berlin[2]}`,
          "  last run:   never",
        ].join("\n"),
      );
      // A rule in this machine's own zone has one clock.
      expect(listed).toContain(`  next runs:  ${zoned(stopRule.upcoming[0], "America/New_York")}\n`);

      const disabled = await cli(["schedules", "disable", startRule.id], here);
      expect(human(disabled)).toStartWith(`Disabled rule ${startRule.id}: it does not fire until enabled again.\n\n${startRule.id}  start  disabled\n`);
      expect(disabled.stdout).toContain(`  next runs:  none: disabled (\`qdz schedules enable ${startRule.id}\` turns it on)\n`);
      expect(parsed(await cli(["schedules", "list", "llama", "--json"])).data.map((rule: any) => [rule.id, rule.enabled, rule.next_run_at])).toEqual([
        [stopRule.id, true, stopRule.next_run_at],
        [startRule.id, false, null],
      ]);

      expect(parsed(await cli(["schedules", "remove", startRule.id, "--json"]))).toEqual({ id: startRule.id, removed: true });
      expect(human(await cli(["schedules", "remove", stopRule.id]))).toBe(
        `Removed rule ${stopRule.id}. What it did stays in \`qdz schedules history <instance>\`.\n`,
      );
      expect(parsed(await cli(["schedules", "list", instanceId, "--json"]))).toEqual({ instance_id: instanceId, data: [] });
      expect(failed(await cli(["schedules", "remove", stopRule.id, "--json"]))).toEqual({
        message: `Schedule rule '${stopRule.id}' was not found.`,
        code: "NOT_FOUND",
      });

      // Another account sees neither the instance nor its rules.
      const other = await signedUpCli();
      expect(failed(await other.cli(["schedules", "list", instanceId, "--json"]))).toEqual({
        message: `instance: no instance '${instanceId}' in this account. \`qdz instances list\` lists them.`,
        code: "NOT_FOUND",
      });
    },
    TIMEOUT,
  );

  test(
    "a bad cron or a misspelt zone is refused naming the flag; --start and --stop exactly one; names of one instance only",
    async () => {
      const { cli, accountId } = await signedUpCli();
      const instanceId = await insertInstanceRow(db, { accountId, name: "llama", state: "stopped" });

      expect(failed(await cli(["schedules", "add", "llama", "--stop", "--cron", "61 * * * *", "--json"]))).toEqual({
        message: "--cron: Minute 61 is out of range (0–59).",
        code: "BAD_REQUEST",
      });
      expect(await cli(["schedules", "add", "llama", "--stop", "--cron", "0 9 * *", "--tz", "UTC"])).toEqual({
        code: 1,
        stdout: "",
        stderr: "error: --cron: A cron expression has five fields (minute hour day-of-month month day-of-week); '0 9 * *' has 4.\n",
      });
      expect(failed(await cli(["schedules", "add", "llama", "--start", "--cron", "0 9 * * *", "--tz", "Europe/Berln", "--json"]))).toEqual({
        message: "--tz: Europe/Berln is not a time zone; did you mean Europe/Berlin?",
        code: "BAD_REQUEST",
      });
      expect(failed(await cli(["schedules", "add", "llama", "--start", "--cron", "0 9 * * *", "--note", "x".repeat(201), "--json"])).message).toStartWith(
        "--note: ",
      );

      // What the command line alone tells: exit 2, nothing sent.
      expect(failed(await cli(["schedules", "add", "llama", "--cron", "0 9 * * *", "--json"]), 2)).toEqual({
        message: "Give exactly one of --start or --stop: what the rule does at its times.",
        code: "USAGE",
      });
      expect(failed(await cli(["schedules", "add", "llama", "--start", "--stop", "--cron", "0 9 * * *", "--json"]), 2).message).toBe(
        "Give exactly one of --start or --stop: what the rule does at its times (not both).",
      );
      expect(failed(await cli(["schedules", "add", "llama", "--stop", "--json"]), 2)).toEqual({
        message: "required option '--cron <expr>' not specified",
        code: "USAGE",
      });
      expect(failed(await cli(["schedules", "history", "llama", "--limit", "0", "--json"]), 2).code).toBe("USAGE");

      const twin = await insertInstanceRow(db, { accountId, name: "llama", state: "stopped" });
      const ambiguous = failed(await cli(["schedules", "list", "llama", "--json"]), 2);
      expect(ambiguous.message).toStartWith("instance: 2 instances are named 'llama'");
      for (const id of [instanceId, twin]) expect(ambiguous.message).toContain(id);
      expect(failed(await cli(["schedules", "list", "alpaca", "--json"])).code).toBe("NOT_FOUND");

      expect(parsed(await cli(["schedules", "list", instanceId, "--json"])).data).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    "history: each due time fires once (skipped: the instance is already stopped; missed: past the catch-up window), newest first, in pages, kept after the rule is removed",
    async () => {
      const { cli, accountId } = await signedUpCli();
      const instanceId = await insertInstanceRow(db, { accountId, name: "idle", state: "stopped" });
      expect(parsed(await cli(["schedules", "history", "idle", "--json"]))).toEqual({ data: [], next_cursor: null });
      expect(human(await cli(["schedules", "history", "idle"]))).toBe("No rule of idle has been due yet.\n");

      // A yearly rule, so its own next match never comes during the test: each due time here is one moved back.
      const rule = parsed(await cli(["schedules", "add", "idle", "--stop", "--cron", "0 0 1 1 *", "--tz", "UTC", "--json"]));
      const dueTimes: Date[] = [];
      for (const secondsAgo of [700, 2, 1]) {
        dueTimes.push(await dueIn(rule.id, -secondsAgo));
        await waitUntil(`execution ${dueTimes.length} is recorded`, async () => (await historyOf(cli, instanceId)).data.length === dueTimes.length);
      }
      const all = (await historyOf(cli, instanceId)).data;
      expectCopy(all).toEqual(
        [...dueTimes].reverse().map((due) => ({
          id: expect.any(Number),
          rule_id: rule.id,
          instance_id: instanceId,
          action: "stop",
          cron: "0 0 1 1 *",
          time_zone: "UTC",
          due_at: due.toISOString(),
          executed_at: expect.any(String),
          outcome: due === dueTimes[0] ? "missed" : "skipped",
          detail:
            due === dueTimes[0]
              ? expect.stringMatching(/^Due at .*, seen 1\d min late \(the scheduler was not running\); the catch-up window is 10 min\.$/)
              : "The instance is already stopped.",
        })),
      );
      // Fired once each: the rule's next run is its own next match again, not a repeat.
      const [listed] = parsed(await cli(["schedules", "list", "idle", "--json"])).data;
      expect(listed.next_run_at).toBe(`${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`);
      expect(listed.last_execution).toEqual(all[0]);

      // Two a page: the hint gives the next page's command, which holds the third.
      const first = await cli(["schedules", "history", "idle", "--limit", "2"]);
      expect(first.code).toBe(0);
      const lines = first.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("Schedule history of idle, newest first:");
      expect(lines[1]).toMatch(/^DUE\s+TIME ZONE\s+RULE\s+ACTION\s+OUTCOME\s+EXECUTED\s+DETAIL$/);
      const row = (execution: any, rest: string) => new RegExp(`^${zoned(execution.due_at, "UTC").replace("+", "\\+")}  UTC\\s+${rule.id}  stop\\s+${rest}$`);
      expect(lines[2]).toMatch(row(all[0], "skipped\\s+\\d\\.\\d s after\\s+The instance is already stopped\\."));
      expect(lines[3]).toMatch(row(all[1], "skipped\\s+\\d\\.\\d s after\\s+The instance is already stopped\\."));
      expect(lines).toHaveLength(4);
      const hint = /^More executions: qdz schedules history idle --limit 2 --cursor (\S+)\n$/.exec(first.stderr);
      expect(hint).not.toBeNull();
      const second = await historyOf(cli, "idle", ["--limit", "2", "--cursor", hint![1]!]);
      expect(second).toEqual({ data: [all[2]], next_cursor: null });
      const last = await cli(["schedules", "history", "idle", "--limit", "2", "--cursor", hint![1]!]);
      expect(last.stderr).toBe("");
      expect(last.stdout.trimEnd().split("\n")[2]).toMatch(row(all[2], "missed\\s+1\\d min after\\s+Due at .* the catch-up window is 10 min\\."));
      expect(parsed(await cli(["schedules", "history", "idle", "--limit", "2", "--json"]))).toEqual({ data: all.slice(0, 2), next_cursor: hint![1] });
      expect(failed(await cli(["schedules", "history", "idle", "--cursor", "abc", "--json"]))).toEqual({
        message: "--cursor: This cursor is not one the history gave out.",
        code: "BAD_REQUEST",
      });

      // The history outlives the rule, and the instance: a deleted instance's id still reads it.
      human(await cli(["schedules", "remove", rule.id]));
      expect((await historyOf(cli, instanceId)).data).toEqual(all);
      expect(parsed(await cli(["instances", "delete", instanceId, "--yes", "--json"]))).toEqual({ changed: [instanceId], skipped: [] });
      expect((await historyOf(cli, instanceId)).data).toEqual(all);
    },
    TIMEOUT,
  );
});

describe("a stop rule on a running instance", () => {
  test("a real reference instance is stopped by its rule at the due time: one succeeded execution, the run ended then, nothing billed after it", async () => {
    const { cli, email, token } = await signedUpCli();
    const { id: checkout } = parsed(await cli(["topup", "10", "--json"]));
    await createClient(platform.url, token).billing.completeDevCheckout.mutate({ id: checkout, outcome: "pay" });

    // 1×H100 at €3.87/h: a cent every ~9.3 s, so the run is debited before the rule stops it.
    const launch = ["instances", "launch", "--runtime", "reference", "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--gpu", "H100-80G", "--name", "nightly"];
    const instance = parsed(await cli([...launch, "--wait", "--json"]));
    expect(instance.state).toBe("running");
    const id: string = instance.id;
    const metered = async () => parsed(await cli(["instances", "show", id, "--metered", "--json"]));
    await waitUntil("the run is debited by the tick", async () => (await metered()).debited_cents > 0, 45_000);

    // The rule's own match is a year away; its next run is moved to 3 s from the database's now.
    const rule = parsed(await cli(["schedules", "add", "nightly", "--stop", "--cron", "0 0 1 1 *", "--tz", "Europe/Berlin", "--json"]));
    const due = await dueIn(rule.id, 3);

    await waitUntil(`instance ${id} is stopped`, async () => parsed(await cli(["instances", "show", id, "--json"])).state === "stopped", 30_000);
    const history = await historyOf(cli, "nightly");
    expectCopy(history).toEqual({
      data: [
        expect.objectContaining({
          rule_id: rule.id,
          action: "stop",
          due_at: due.toISOString(),
          outcome: "succeeded",
          detail: null,
          time_zone: "Europe/Berlin",
        }),
      ],
      next_cursor: null,
    });
    const executedAfterMs = Date.parse(history.data[0].executed_at) - due.getTime();
    expect(executedAfterMs).toBeGreaterThanOrEqual(0);
    expect(executedAfterMs).toBeLessThan(5_000);
    const detail = parsed(await cli(["instances", "show", id, "--json"]));
    expect(detail.events.find((event: any) => event.to === "stopping").cause).toBe(
      `stopped by schedule rule ${rule.id} (At 00:00, on day 1 of the month, only in January, Europe/Berlin)`,
    );
    const [listed] = parsed(await cli(["schedules", "list", "nightly", "--json"])).data;
    expect(listed.last_execution).toEqual(history.data[0]);

    // The same execution on the instance's Schedule tab, in the browser, as the same person signed in there.
    const page = await newPage();
    await signInInBrowser(page, platform.url, { email, password: PASSWORD });
    await page.goto(`${platform.url}/instances/${id}?tab=schedule`);
    const row = page.getByTestId("execution-row");
    await seen(row.first());
    expect(await row.count()).toBe(1);
    expect(await row.first().getAttribute("data-outcome")).toBe("succeeded");
    expect(await row.first().textContent()).toContain("Europe/Berlin");
    expect((await page.getByTestId("schedule-rule").first().getByTestId("last-outcome").textContent())?.trim()).toBe("succeeded");

    // Billing ended at that moment: the run ended within seconds of the due time, and is billed up to its end only.
    await waitUntil("the run is settled", async () => (await metered()).runs[0].settled, 30_000);
    const settled = await metered();
    const run = settled.runs[0];
    expect(run.ended_because).toBe("stopped");
    const endedAfterMs = Date.parse(run.ended_at) - due.getTime();
    expect(endedAfterMs).toBeGreaterThanOrEqual(0);
    expect(endedAfterMs).toBeLessThan(5_000);
    expect(run.seconds_billed).toBeLessThanOrEqual(Math.floor((Date.parse(run.ended_at) - Date.parse(run.running_at)) / 1000));
    expect(run.debited_cents).toBe(Math.floor((run.seconds_billed * run.rate_cents_per_hour) / 3600));
    const ledger = async () => parsed(await cli(["ledger", "--instance", id, "--limit", "200", "--json"])).data;
    const entries = await ledger();
    expect(-entries.reduce((sum: number, entry: any) => sum + entry.amount_cents, 0)).toBe(run.debited_cents);
    for (const entry of entries) {
      expect(entry.kind).toBe("debit");
      expect(Number(entry.reference.split(":")[2])).toBeLessThanOrEqual(run.seconds_billed);
    }
    // A billing tick later nothing more is charged. Nothing to observe here, so a tick's worth of time passes.
    await Bun.sleep((BILLING_TICK_SECONDS + 1) * 1000);
    expect(await metered()).toEqual(settled);
    expect(await ledger()).toEqual(entries);
    console.log(
      `schedules e2e: due ${due.toISOString()}, executed +${executedAfterMs} ms, run ended +${endedAfterMs} ms, billed ${run.seconds_billed} s = ${run.debited_cents} cents`,
    );
  }, 120_000);
});
