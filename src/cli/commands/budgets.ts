import { TRPCClientError } from "@trpc/client";
import type { Command } from "commander";
import { budgetJson } from "../../spend/json";
import { BUDGET_THRESHOLDS } from "../../spend/thresholds";
import { action } from "../action";
import type { Outputs } from "../client";
import type { CliContext } from "../context";
import { CliError, toCliError, UsageError } from "../errors";
import { formatEur, parseEur } from "../money";
import { formatTime, renderTable } from "../output";
import { resolveInstance } from "./instances/resolve";

type Budget = NonNullable<Outputs["budgets"]["list"]["account"]>;

/** `50 %, 80 % and 100 %`, from the watcher's own list. */
const THRESHOLDS = BUDGET_THRESHOLDS.map((percent) => `${percent} %`)
  .join(", ")
  .replace(/, (?=[^,]*$)/, " and ");

interface SetOptions {
  instance?: string;
  stopRunning?: boolean;
}

export function budgetsCommands(program: Command): void {
  const budgets = program
    .command("budgets")
    .alias("budget")
    .description("monthly spend caps (UTC calendar month) for the account and its instances: list them, or set and remove one")
    .action(action(list));

  budgets.command("list").description("list the account's budget and its instances', with this month's spend").action(action(list));
  budgets
    .command("set")
    .description(`set or change a monthly budget; you are alerted at ${THRESHOLDS} (\`qdz notifications\`)`)
    .argument("<amount>", "the monthly budget in EUR, such as 200 or 200.50")
    .option("--instance <id or name>", "one instance's budget (at 100 % it stops) instead of the account's (owners only)")
    .option("--stop-running", "account budget only: at 100 % also stop running instances, not only refuse new launches")
    .action(action(set));
  budgets
    .command("remove")
    .description("remove a monthly budget: the account's (owners only), or one instance's")
    .option("--instance <id or name>", "the instance whose budget to remove")
    .action(action(remove));
}

async function list(cli: CliContext) {
  const found = await cli.signedIn().budgets.list.query();
  const rows = [...(found.account ? [found.account] : []), ...found.instances];
  cli.out.result({ account: found.account && budgetJson(found.account), instances: found.instances.map(budgetJson) }, () => {
    if (rows.length === 0) return "No budgets yet. Set one with `qdz budgets set <eur>` (add --instance <id> for one instance).";
    return renderTable(
      ["scope", "instance", "budget", "spent this month", "percent", "resets", "at 100 %"],
      rows.map((budget) => [
        budget.instanceId === null ? "account" : "instance",
        budget.instanceId === null ? "-" : instanceLabel(budget),
        formatEur(budget.monthlyCents),
        formatEur(budget.spentCents),
        `${budget.percent} %`,
        formatTime(budget.resetsAt),
        budget.instanceId !== null ? "stops it" : budget.stopRunning ? "refuses launches, stops running" : "refuses launches",
      ]),
    );
  });
}

async function set(cli: CliContext, amount: string, options: SetOptions) {
  // The command line alone can tell these; nothing is sent when it is wrong.
  if (options.stopRunning && options.instance) {
    throw new UsageError("--stop-running is for the account's budget only: an instance's budget stops that instance at 100 % anyway. Leave out one of them.");
  }
  const monthlyCents = budgetAmount(amount);
  const client = cli.signedIn();
  const instanceId = options.instance ? (await resolveInstance(client, options.instance, "--instance")).id : null;
  const budget = await client.budgets.set.mutate({ instanceId, monthlyCents, stopRunning: options.stopRunning }).catch((error) => {
    throw inFlagWords(error, cli.url, amount);
  });
  cli.out.result(budgetJson(budget), () => {
    const scope = budget.instanceId === null ? "the account" : `instance ${instanceLabel(budget)}`;
    return (
      `Set the monthly budget of ${scope} to ${formatEur(budget.monthlyCents)}: ${formatEur(budget.spentCents)} spent this month (${budget.percent} %), ` +
      `resets ${formatTime(budget.resetsAt)}.\n${consequence(budget)}`
    );
  });
  cli.out.note(`You are alerted at ${THRESHOLDS} (\`qdz notifications\`).`);
}

async function remove(cli: CliContext, options: { instance?: string }) {
  const client = cli.signedIn();
  const instanceId = options.instance ? (await resolveInstance(client, options.instance, "--instance")).id : null;
  await client.budgets.remove.mutate({ instanceId }).catch((error) => {
    throw inFlagWords(error, cli.url);
  });
  // Removing a budget that is not set does nothing, so the message says what holds now rather than what changed.
  cli.out.result({ instance_id: instanceId, removed: true }, () =>
    instanceId === null ? "The account has no monthly budget now." : `Instance ${options.instance} has no monthly budget now.`,
  );
}

function consequence(budget: Budget): string {
  if (budget.instanceId !== null) return "At 100 % this instance stops, and it cannot start again this month unless its budget is raised.";
  if (budget.stopRunning) return "At 100 % new launches are refused and running instances stop.";
  return "At 100 % new launches are refused; running instances keep running (--stop-running stops them too).";
}

const instanceLabel = (budget: Budget) =>
  budget.instanceName && budget.instanceName !== budget.instanceId ? `${budget.instanceName} (${budget.instanceId})` : (budget.instanceId ?? "-");

/**
 * The amount through `parseEur`, refusals in a budget's words: `parseEur` words zero and negative amounts for a
 * top-up. The minimum is the server's to check (one rule, one place); `inFlagWords` names the amount in its answer.
 */
function budgetAmount(text: string): number {
  if (/^[-−]/.test(text.trim().replace(/^€\s*/, ""))) {
    throw new UsageError(`amount '${text}' is negative. A monthly budget is a positive amount in EUR, such as 200.`);
  }
  try {
    return parseEur(text);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (/is zero/.test(error.message)) throw new UsageError(`amount '${text}' is zero. A monthly budget is a positive amount in EUR, such as 200.`);
    throw new UsageError(`amount: ${error.message}`);
  }
}

/** The api names its input's fields; the person typed an amount and flags. */
const FIELD_WORDS: Record<string, string> = { monthlyCents: "amount", stopRunning: "--stop-running", instanceId: "--instance" };

/** A refusal of one field, reworded to name what was typed; anything else as it came. */
function inFlagWords(error: unknown, url: string, amount?: string): unknown {
  if (!(error instanceof TRPCClientError)) return error;
  const data = error.data as { field?: string; fieldErrors?: Record<string, string[] | undefined> } | undefined;
  const field = data?.field ?? Object.keys(data?.fieldErrors ?? {})[0];
  const words = field && FIELD_WORDS[field];
  if (!words) return error;
  const mapped = toCliError(error, url);
  const reason = data?.fieldErrors?.[field!]?.join("; ") ?? mapped.message;
  const subject = field === "monthlyCents" && amount !== undefined ? `${words} '${amount}'` : words;
  return new CliError(`${subject}: ${reason}`, mapped.code, mapped.exitCode);
}
