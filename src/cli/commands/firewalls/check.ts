import type { CliContext } from "../../context";
import { readStdin } from "../../input";
import { renderVerdict } from "./render";

/**
 * The firewall's verdict on one prompt, recorded nowhere. Exit 0 whatever
 * the outcome: a blocked prompt is an answer here, not a failure.
 */
export async function check(cli: CliContext, firewallId: string, text: string) {
  // A piped prompt loses the newline `echo` adds, as a typed one never had it.
  const prompt = text === "-" ? (await readStdin()).replace(/\r?\n$/, "") : text;
  const verdict = await cli.signedIn().firewalls.test.mutate({ firewallId, text: prompt });
  cli.out.result(verdict, renderVerdict);
}
