import { type Command, InvalidArgumentError, Option } from "commander";
import { ledgerEntryJson } from "../../billing/ledger-json";
import { action } from "../action";
import type { Client } from "../client";
import type { CliContext } from "../context";
import { CliError, toCliError } from "../errors";
import { formatEur, formatSignedEur, parseEur } from "../money";
import { formatTime, renderTable } from "../output";
import { balanceJson, balanceWarning, renderBalance } from "./balance";

const LEDGER_KINDS = ["topup", "debit", "refund", "adjustment"] as const;
const POLL_INTERVAL_MS = 1_000;
const DEFAULT_WAIT_SECONDS = 900;
const MAX_WAIT_SECONDS = 86_400;

interface LedgerOptions {
  kind?: (typeof LEDGER_KINDS)[number];
  limit?: number;
  instance?: string;
  cursor?: string;
}

interface TopUpOptions {
  wait?: boolean;
  timeout: number;
}

export function billingCommands(program: Command): void {
  program
    .command("balance")
    .description("show the account's balance, its burn rate and runway, and the grace window when it is negative")
    .action(action(balance));

  program
    .command("ledger")
    .description("list the account's ledger entries, newest first")
    .addOption(new Option("--kind <kind>", "only entries of this kind").choices(LEDGER_KINDS))
    .option("--limit <n>", "entries per page, 1 to 200 (default: 25)", positiveInteger(200))
    .option("--instance <id>", "only entries of this instance (inst_…)")
    .option("--cursor <cursor>", "the next page, as the previous page's hint gives it")
    .action(action(ledger));

  program
    .command("topup")
    .description("add credit: opens a checkout to pay in the browser")
    .argument("<eur>", "the amount in EUR, such as 50, 50.5 or 50,50")
    .option("--wait", "wait until the checkout is paid or canceled, then print the new balance")
    .option("--timeout <seconds>", "with --wait: give up after this long", positiveInteger(MAX_WAIT_SECONDS), DEFAULT_WAIT_SECONDS)
    .action(action(topUp));
}

async function balance(cli: CliContext) {
  const summary = await cli.signedIn().billing.balance.query();
  cli.out.result(balanceJson(summary), renderBalance);
  const warning = balanceWarning(summary);
  if (warning) cli.out.note(warning);
}

async function ledger(cli: CliContext, options: LedgerOptions) {
  const page = await cli.signedIn().billing.ledger.query({
    kind: options.kind,
    limit: options.limit,
    instanceId: options.instance,
    cursor: options.cursor,
  });
  cli.out.result({ data: page.entries.map(ledgerEntryJson), next_cursor: page.nextCursor }, () => {
    if (page.entries.length === 0) return options.kind || options.instance || options.cursor ? "No ledger entries match." : "No ledger entries yet.";
    return renderTable(
      ["time", "kind", "amount", "reference", "instance"],
      page.entries.map((entry) => [formatTime(entry.createdAt), entry.kind, formatSignedEur(entry.amountCents), entry.reference, entry.instanceId ?? "-"]),
    );
  });
  if (page.nextCursor) cli.out.note(`More entries: ${nextPageCommand(options, page.nextCursor)}`);
}

/** The same filters with the new cursor, ready to paste. */
function nextPageCommand(options: LedgerOptions, cursor: string): string {
  const flags = [
    options.kind && `--kind ${options.kind}`,
    options.limit && `--limit ${options.limit}`,
    options.instance && `--instance ${options.instance}`,
    `--cursor ${cursor}`,
  ];
  return ["qdz ledger", ...flags.filter(Boolean)].join(" ");
}

async function topUp(cli: CliContext, amount: string, options: TopUpOptions) {
  // Parsed before anything else: a mistyped amount must not open a checkout.
  const amountCents = parseEur(amount);
  const client = cli.signedIn();
  // The api names the return pages at its PUBLIC_URL, the host the browser is signed in on, not the one this CLI
  // reached it on (`127.0.0.1` and `localhost` hold separate sign-ins).
  const checkout = await client.billing.createCheckout.mutate({ amountCents });
  if (!options.wait) {
    cli.out.result({ id: checkout.id, url: checkout.url }, (result) => `Open this URL to pay: ${result.url}`);
    cli.out.note(`The balance is credited once the payment is confirmed: check it with \`qdz balance\`.`);
    return;
  }

  // On stderr even under --json: the person must see where to pay, and stdout keeps only the final result.
  process.stderr.write(`Open this URL to pay ${formatEur(amountCents)}: ${checkout.url}\n`);
  const status = await waitForCheckout(cli, client, checkout.id, options.timeout * 1_000);
  if (status === "canceled") throw new CliError("The checkout was canceled; nothing was charged.", "CHECKOUT_CANCELED");
  if (status === "open") {
    throw new CliError(
      `No payment within ${options.timeout} s. The checkout stays open: paying it later still credits the balance (check with \`qdz balance\`).`,
      "TIMEOUT",
    );
  }
  const summary = await client.billing.balance.query();
  cli.out.result(
    { id: checkout.id, status, balance_cents: summary.balanceCents },
    (result) => `Paid ${formatEur(amountCents)}. Your balance is ${formatEur(result.balance_cents)}.`,
  );
}

/** Polls the checkout until it is no longer open or the time is up; resolves to its last status. */
async function waitForCheckout(cli: CliContext, client: Client, id: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const spinner = process.stderr.isTTY ? startSpinner("Waiting for the payment (Ctrl-C stops waiting; the checkout stays open)") : null;
  try {
    for (;;) {
      const status = await checkoutStatus(cli, client, id);
      if (status !== "open" || Date.now() >= deadline) return status;
      await Bun.sleep(Math.min(POLL_INTERVAL_MS, deadline - Date.now()));
    }
  } finally {
    spinner?.stop();
  }
}

/** A network blip while someone is paying must not end the wait: an unreachable server counts as "still open". */
async function checkoutStatus(cli: CliContext, client: Client, id: string) {
  try {
    return (await client.billing.checkout.query({ id })).status;
  } catch (error) {
    if (toCliError(error, cli.url).code === "UNREACHABLE") return "open" as const;
    throw error;
  }
}

const SPINNER_FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function startSpinner(message: string) {
  let frame = 0;
  const draw = () => process.stderr.write(`\r${SPINNER_FRAMES[frame++ % SPINNER_FRAMES.length]} ${message}`);
  draw();
  const timer = setInterval(draw, 100);
  return {
    stop() {
      clearInterval(timer);
      process.stderr.write("\r\x1b[K");
    },
  };
}

/** A commander parser for whole numbers from 1 to `max`; commander reports a refusal as a usage error. */
function positiveInteger(max: number) {
  return (value: string) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < 1 || number > max) throw new InvalidArgumentError(`Expected a whole number from 1 to ${max}.`);
    return number;
  };
}
