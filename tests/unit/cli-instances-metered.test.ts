import { describe, expect, test } from "bun:test";
import { type Metered, renderMetered } from "../../src/cli/commands/instances/render";
import { show } from "../../src/cli/commands/instances/view";
import type { CliContext } from "../../src/cli/context";
import { Output } from "../../src/cli/output";
import { buildProgram } from "../../src/cli/program";

const metered: Metered = {
  instance_id: "inst_abc",
  seconds_billed: 4827,
  rate_per_hour: 2.8,
  rate_cents_per_hour: 280,
  current_charge: 3.754,
  debited_cents: 375,
  refunded_cents: 0,
  runs: [
    {
      run_id: "run_abc",
      number: 1,
      running_at: new Date("2025-01-31T14:05:00.000Z"),
      ended_at: null,
      ended_because: null,
      seconds_billed: 4827,
      rate_cents_per_hour: 280,
      debited_cents: 375,
      refunded_cents: 0,
      settled: false,
    },
  ],
  total: { seconds_billed: 4827, debited_cents: 375, refunded_cents: 0 },
};

/** `show` with a client answering `instances.metered`, and what it printed. */
async function showMetered(json: boolean) {
  let stdout = "";
  const asked: unknown[] = [];
  const out = new Output(json, (text) => void (stdout += text));
  const client = { instances: { metered: { query: async (input: unknown) => (asked.push(input), metered) } } };
  await show({ out, signedIn: () => client } as unknown as CliContext, "inst_abc", { metered: true });
  return { stdout, asked };
}

describe("qdz instances show --metered", () => {
  test("prints the metering as JSON in snake_case, times as ISO strings", () => {
    const printed = JSON.parse(renderMetered(metered));
    expect(printed).toMatchObject({ seconds_billed: 4827, rate_per_hour: 2.8, current_charge: 3.754, debited_cents: 375, rate_cents_per_hour: 280 });
    expect(printed.runs[0].running_at).toBe("2025-01-31T14:05:00.000Z");
  });

  test("is the same JSON document with or without --json", async () => {
    const plain = await showMetered(false);
    const json = await showMetered(true);
    expect(plain.asked).toEqual([{ id: "inst_abc" }]);
    expect(plain.stdout).toBe(json.stdout);
    expect(JSON.parse(plain.stdout)).toEqual(JSON.parse(JSON.stringify(metered)));
  });

  test("`show` takes --metered", () => {
    const show = buildProgram(false)
      .commands.find((command) => command.name() === "instances")!
      .commands.find((command) => command.name() === "show")!;
    expect(show.options.map((option) => option.long)).toContain("--metered");
  });
});
