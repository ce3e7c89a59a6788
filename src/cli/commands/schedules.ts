import { TRPCClientError } from "@trpc/client";
import type { Command } from "commander";
import { action } from "../action";
import type { Client } from "../client";
import type { CliContext } from "../context";
import { CliError, toCliError, UsageError } from "../errors";
import { wholeNumber } from "./instances/launch-options";
import { resolveInstance } from "./instances/resolve";
import { executionJson, machineZone, renderExecutions, renderRule, ruleJson } from "./schedules/render";

interface AddOptions {
  start?: boolean;
  stop?: boolean;
  cron: string;
  tz?: string;
  note?: string;
  disabled?: boolean;
}

interface HistoryOptions {
  limit?: number;
  cursor?: string;
}

export function schedulesCommands(program: Command): void {
  const schedules = program
    .command("schedules")
    .alias("schedule")
    .description("cron rules that start or stop an instance at set times, each in its own time zone (a stop ends billing then)");

  schedules
    .command("list")
    .description("list an instance's rules: what each does and when, its next runs and its last execution")
    .argument("<instance>", "the instance's id or name")
    .action(action(list));
  schedules
    .command("add")
    .description("add a rule that starts or stops an instance whenever its cron expression matches, in its time zone")
    .argument("<instance>", "the instance's id or name")
    .option("--start", "start the instance at these times")
    .option("--stop", "stop the instance at these times")
    .requiredOption("--cron <expr>", "five fields (minute hour day-of-month month day-of-week), such as '0 19 * * 1-5', or @daily, @hourly, …")
    .option("--tz <zone>", "the IANA time zone the expression is read in, such as Europe/Berlin (default: this machine's)")
    .option("--note <text>", "a note, such as 'office hours'")
    .option("--disabled", "add it switched off: it fires once enabled")
    .action(action(add));
  schedules
    .command("enable")
    .description("switch a rule on: it next fires at its next time from now")
    .argument("<rule>", "the rule's id (sch_…)")
    .action(action(enable));
  schedules
    .command("disable")
    .description("switch a rule off: it does not fire until enabled again")
    .argument("<rule>", "the rule's id (sch_…)")
    .action(action(disable));
  schedules
    .command("remove")
    .description("delete a rule; its past executions stay in the history")
    .argument("<rule>", "the rule's id (sch_…)")
    .action(action(remove));
  schedules
    .command("history")
    .description("list what an instance's rules did each time they were due, newest first (kept after a rule is deleted)")
    .argument("<instance>", "the instance's id or name")
    .option("--limit <n>", "executions per page, 1 to 100 (default: 20)", wholeNumber(1, 100))
    .option("--cursor <cursor>", "the next page, as the previous page's hint gives it")
    .action(action(history));
}

async function list(cli: CliContext, given: string) {
  const client = cli.signedIn();
  const instance = await resolveInstance(client, given, "instance");
  const rules = await client.schedules.list.query({ instanceId: instance.id });
  const localZone = machineZone();
  cli.out.result({ instance_id: instance.id, data: rules.map(ruleJson) }, () => {
    const label = instanceLabel(instance);
    if (rules.length === 0) return `${label} has no schedule rules. Add one with \`qdz schedules add ${given} --stop --cron "0 19 * * 1-5"\`.`;
    return [`Schedule rules of ${label}:`, ...rules.map((rule) => renderRule(rule, localZone))].join("\n\n");
  });
}

async function add(cli: CliContext, given: string, options: AddOptions) {
  // The command line alone can tell this; nothing is sent when it is wrong.
  if (Boolean(options.start) === Boolean(options.stop)) {
    throw new UsageError(`Give exactly one of --start or --stop: what the rule does at its times${options.start ? " (not both)" : ""}.`);
  }
  const client = cli.signedIn();
  const instance = await resolveInstance(client, given, "instance");
  const timeZone = options.tz ?? machineZone();
  const input = { action: options.start ? "start" : "stop", cron: options.cron, timeZone, enabled: !options.disabled, note: options.note } as const;
  const [rule] = await client.schedules.create.mutate({ instanceId: instance.id, rules: [input] }).catch((error) => {
    throw inFlagWords(error, cli.url);
  });
  cli.out.result(ruleJson(rule!), () => `Added rule ${rule!.id} to ${instanceLabel(instance)}.\n\n${renderRule(rule!, machineZone())}`);
  if (!options.tz) cli.out.note(`No --tz given: the rule runs in this machine's time zone, ${rule!.timeZone}.`);
}

async function enable(cli: CliContext, ruleId: string) {
  await setEnabled(cli, ruleId, true);
}

async function disable(cli: CliContext, ruleId: string) {
  await setEnabled(cli, ruleId, false);
}

/** Enabling counts the next run from now: a time that passed while it was off never fires late. */
async function setEnabled(cli: CliContext, ruleId: string, enabled: boolean) {
  const rule = await cli.signedIn().schedules.update.mutate({ id: ruleId, enabled });
  const done = enabled ? `Enabled rule ${rule.id}.` : `Disabled rule ${rule.id}: it does not fire until enabled again.`;
  cli.out.result(ruleJson(rule), () => `${done}\n\n${renderRule(rule, machineZone())}`);
}

async function remove(cli: CliContext, ruleId: string) {
  await cli.signedIn().schedules.remove.mutate({ id: ruleId });
  cli.out.result({ id: ruleId, removed: true }, () => `Removed rule ${ruleId}. What it did stays in \`qdz schedules history <instance>\`.`);
}

async function history(cli: CliContext, given: string, options: HistoryOptions) {
  const client = cli.signedIn();
  const instanceId = await historyInstanceId(client, given);
  const page = await client.schedules.history.query({ instanceId, limit: options.limit, cursor: options.cursor }).catch((error) => {
    throw inFlagWords(error, cli.url);
  });
  cli.out.result({ data: page.executions.map(executionJson), next_cursor: page.nextCursor }, () => {
    if (page.executions.length === 0) return options.cursor ? "No more executions." : `No rule of ${given} has been due yet.`;
    return `Schedule history of ${given}, newest first:\n${renderExecutions(page.executions)}`;
  });
  if (page.nextCursor) {
    const flags = [options.limit && `--limit ${options.limit}`, `--cursor ${page.nextCursor}`].filter(Boolean);
    cli.out.note(`More executions: qdz schedules history ${given} ${flags.join(" ")}`);
  }
}

/** The history outlives its instance: an id no longer listed (a deleted instance) is still asked for. */
async function historyInstanceId(client: Client, given: string): Promise<string> {
  try {
    return (await resolveInstance(client, given, "instance")).id;
  } catch (error) {
    if (error instanceof CliError && error.code === "NOT_FOUND" && given.startsWith("inst_")) return given;
    throw error;
  }
}

const instanceLabel = (instance: { id: string; name: string | null }) => (instance.name ? `${instance.name} (${instance.id})` : instance.id);

/** The api names its input's fields; the person typed flags. */
const FIELD_FLAGS: Record<string, string> = { cron: "--cron", timeZone: "--tz", note: "--note", limit: "--limit", cursor: "--cursor" };

/**
 * A refusal of one field, reworded to name the flag: `--tz: Europe/Berln is not a time zone; did you mean
 * Europe/Berlin?`. The field comes from a domain error (`cron`) or a schema issue's path (`rules.0.note`).
 */
function inFlagWords(error: unknown, url: string): unknown {
  if (!(error instanceof TRPCClientError)) return error;
  const mapped = toCliError(error, url);
  const data = error.data as { field?: string; issues?: { path: string }[] } | undefined;
  const field = (data?.field ?? data?.issues?.[0]?.path)?.replace(/^rules\.\d+\./, "");
  const flag = field && FIELD_FLAGS[field];
  if (!flag) return error;
  return new CliError(`${flag}: ${mapped.message}`, mapped.code, mapped.exitCode);
}
