import type { Command } from "commander";
import { notificationJsonWithRead } from "../../notifications/json";
import { action } from "../action";
import type { Outputs } from "../client";
import type { CliContext } from "../context";
import { UsageError } from "../errors";
import { formatTime } from "../output";
import { wholeNumber } from "./instances/launch-options";

type Page = Outputs["notifications"]["list"];

interface ListOptions {
  unread?: boolean;
  limit?: number;
  cursor?: string;
}

export function notificationsCommands(program: Command): void {
  const notifications = program
    .command("notifications")
    .alias("notification")
    .description("the account's alerts (budgets, runway, grace window, refunds, failed runs), newest first")
    .option("--unread", "only those not read yet")
    .option("--limit <n>", "notifications per page, 1 to 100 (default: 20)", wholeNumber(1, 100))
    .option("--cursor <cursor>", "the next page, as the previous page's hint gives it")
    .action(action(list));

  notifications
    .command("read")
    .description("mark notifications read")
    .argument("[id...]", "the notifications' ids, from `qdz notifications`")
    .option("--all", "mark every notification of the account read")
    .action(action(read));
}

async function list(cli: CliContext, options: ListOptions) {
  const page = await cli.signedIn().notifications.list.query({ limit: options.limit, cursor: options.cursor, unreadOnly: options.unread });
  cli.out.result({ data: page.notifications.map(notificationJsonWithRead), unread: page.unread, next_cursor: page.nextCursor }, () =>
    renderPage(page, options),
  );
  if (page.nextCursor) cli.out.note(`More notifications: ${nextPageCommand(options, page.nextCursor)}`);
  if (page.unread > 0) cli.out.note("Mark them read with `qdz notifications read <id>…` or `qdz notifications read --all`.");
}

async function read(cli: CliContext, ids: string[], options: { all?: boolean }) {
  if (options.all && ids.length > 0) throw new UsageError("Give ids or --all, not both.");
  if (!options.all && ids.length === 0) throw new UsageError("Name the notifications to mark read (ids from `qdz notifications`), or pass --all.");
  const { unread } = await cli.signedIn().notifications.markRead.mutate(options.all ? { all: true } : { ids });
  // Ids of another account's notifications change nothing: the count left is what the account holds, not what was asked.
  cli.out.result({ unread }, () => `${options.all ? "Marked all notifications read" : `Marked ${ids.join(", ")} read`}. ${unreadLine(unread)}`);
}

/** The unread count first, then one block per notification: id, time, severity and whether it is unread; title; body. */
function renderPage(page: Page, options: ListOptions): string {
  const heading = unreadLine(page.unread);
  if (page.notifications.length === 0) {
    if (options.cursor) return `${heading}\nNo more notifications.`;
    return options.unread ? heading : `${heading}\nNo notifications yet.`;
  }
  const blocks = page.notifications.map((notification) =>
    [
      [notification.id, formatTime(notification.createdAt), notification.severity, notification.readAt ? "" : "unread"].join("  ").trimEnd(),
      `  ${notification.title}`,
      ...notification.body.split("\n").map((line) => `  ${line}`),
    ].join("\n"),
  );
  return [heading, ...blocks].join("\n\n");
}

const unreadLine = (unread: number) => (unread === 0 ? "No unread notifications." : `${unread} unread ${unread === 1 ? "notification" : "notifications"}.`);

/** The same filters with the new cursor, ready to paste. */
function nextPageCommand(options: ListOptions, cursor: string): string {
  const flags = [options.unread && "--unread", options.limit && `--limit ${options.limit}`, `--cursor ${cursor}`];
  return ["qdz notifications", ...flags.filter(Boolean)].join(" ");
}
