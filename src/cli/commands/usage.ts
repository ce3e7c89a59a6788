import { type Command, Option } from "commander";
import { usageJson } from "../../usage/json";
import { canonicalTimeZone } from "../../usage/time-zone";
import { type UsageRange, usageRanges } from "../../usage/types";
import { action } from "../action";
import type { Outputs } from "../client";
import type { CliContext } from "../context";
import { UsageError } from "../errors";
import { formatEur } from "../money";
import { renderFields, renderTable } from "../output";

export type InstanceUsageResult = Outputs["usage"]["instance"];
export type AccountUsageResult = Outputs["usage"]["account"];
type Usage = InstanceUsageResult | AccountUsageResult;

interface UsageOptions {
  instance?: string;
  range: UsageRange;
  timeZone?: string;
}

const RANGE_WORDS: Record<UsageRange, string> = { "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", "90d": "last 90 days" };

export function usageCommands(program: Command): void {
  program
    .command("usage")
    .description("show what the account (or one instance) cost per hour or day, its active time and refunds, from the ledger")
    .option("--instance <id>", "one instance (inst_…) instead of the whole account")
    .addOption(new Option("--range <range>", "24h: hourly; 7d: hourly for the first day, then daily; 30d and 90d: daily").choices(usageRanges).default("30d"))
    .option("--time-zone <iana>", "the zone the hours and days are laid out in, such as Europe/Berlin (default: this machine's)")
    .action(action(usage));
}

async function usage(cli: CliContext, options: UsageOptions) {
  const timeZone = zoneOption(options.timeZone);
  const client = cli.signedIn();
  const input = { range: options.range, timeZone };
  const result = options.instance ? await client.usage.instance.query({ ...input, instanceId: options.instance }) : await client.usage.account.query(input);
  cli.out.result(usageJson(result), () => renderUsage(result));
  if (result.buckets.some((bucket) => bucket.partial)) cli.out.note("* still filling: the billing tick adds to it.");
}

/** The machine's zone by default; a name the server would refuse is refused here, naming the option. */
export function zoneOption(given: string | undefined, machine = Intl.DateTimeFormat().resolvedOptions().timeZone): string {
  const name = given ?? (machine || "UTC");
  const zone = canonicalTimeZone(name);
  if (!zone) throw new UsageError(`--time-zone: '${name}' is not an IANA time zone; use a name such as Europe/Berlin, America/New_York or UTC.`);
  return zone;
}

/** For people: the buckets as a table in the zone, the cards, and for the account its top instances. Under --json, the body `GET /billing/usage` answers. */
export function renderUsage(usage: Usage): string {
  const subject = "instanceId" in usage ? usage.instanceId : "the account";
  const heading = `Usage of ${subject}, ${RANGE_WORDS[usage.range]}, in ${usage.timeZone}:`;
  const table = renderTable(
    ["bucket", "cost", "active", "refunded"],
    usage.buckets.map((bucket) => [
      `${bucketLabel(bucket, usage.timeZone)}${bucket.partial ? " *" : ""}`,
      formatEur(bucket.costCents),
      formatDuration(bucket.billableSeconds),
      bucket.refundedCents ? formatEur(bucket.refundedCents) : "-",
    ]),
  );
  const { cards } = usage;
  const fields = renderFields([
    ["Month to date", formatEur(cards.monthToDateCents)],
    ["Average daily", `${formatEur(cards.averageDailyCents)} (over ${cards.daysCounted} ${cards.daysCounted === 1 ? "day" : "days"})`],
    ["Active hours", `${(cards.activeSeconds / 3600).toFixed(2)} h`],
    ["Refunded", formatEur(cards.refundedCents)],
  ]);
  const parts = [heading, "", table, "", fields];
  if ("topInstances" in usage && usage.topInstances.length > 0) {
    parts.push(
      "",
      "Top instances by cost in the range:",
      renderTable(
        ["instance", "name", "cost", "active", "refunded"],
        usage.topInstances.map((instance) => [
          instance.instanceId,
          instance.deleted ? `${instance.name} (deleted)` : instance.name,
          formatEur(instance.costCents),
          formatDuration(instance.billableSeconds),
          instance.refundedCents ? formatEur(instance.refundedCents) : "-",
        ]),
      ),
    );
  }
  return parts.join("\n");
}

/**
 * A day as `2026-03-29 Sun`; an hour as `2026-03-29 03:00 +02:00`, with its offset, so the hour a fall-back
 * night repeats reads apart from the first one.
 */
export function bucketLabel(bucket: { start: string; granularity: "hour" | "day" }, timeZone: string): string {
  const at = Temporal.Instant.from(bucket.start).toZonedDateTimeISO(timeZone);
  const date = at.toPlainDate().toString();
  if (bucket.granularity === "day") return `${date} ${at.toLocaleString("en-US", { weekday: "short" })}`;
  return `${date} ${at.toPlainTime().toString({ smallestUnit: "minute" })} ${at.offset}`;
}

/** Whole seconds as `h:mm:ss` (`0:00:00` for none): hours grow past 24 in long buckets. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}
