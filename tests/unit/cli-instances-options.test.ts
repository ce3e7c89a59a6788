import { describe, expect, test } from "bun:test";
import { InvalidArgumentError } from "commander";
import { collectList, type LaunchFlags, launchRequest, parseMaxPrice, wholeNumber } from "../../src/cli/commands/instances/launch-options";
import { UsageError } from "../../src/cli/errors";

const flags = (overrides: Partial<LaunchFlags> = {}): LaunchFlags => ({
  runtime: "reference",
  model: "Qwen/Qwen2.5-0.5B-Instruct",
  gpu: ["L4"],
  gpus: 1,
  tier: "secure",
  timeout: 600,
  ...overrides,
});

/** The usage error `run` throws (exit code 2). */
function refusal(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return error as UsageError;
  }
  throw new Error("it was accepted");
}

describe("launchRequest", () => {
  test("maps the flags onto the launch procedure's input", () => {
    expect(
      launchRequest(
        flags({
          name: "demo",
          description: "a test",
          file: "model.gguf",
          task: "chat",
          context: 8192,
          servingName: "demo",
          gpu: ["L40S", "L4"],
          gpus: 2,
          tier: "community",
          region: ["local", "eu-west"],
          maxPrice: "3.50",
          pinned: true,
          minVram: 40,
        }),
      ),
    ).toEqual({
      name: "demo",
      description: "a test",
      runtimeId: "reference",
      templateId: undefined,
      hfRepo: "Qwen/Qwen2.5-0.5B-Instruct",
      modelFile: "model.gguf",
      task: "chat",
      contextLength: 8192,
      servingName: "demo",
      gpuPreferences: ["L40S", "L4"],
      gpuCount: 2,
      tier: "community",
      allowedRegions: ["local", "eu-west"],
      maxPriceCentsPerHour: 350,
      placementMode: "pinned",
      minVramGib: 40,
      hfToken: undefined,
    });
  });

  test("defaults: any region, no price cap, smart placement", () => {
    expect(launchRequest(flags())).toMatchObject({ allowedRegions: [], maxPriceCentsPerHour: undefined, placementMode: "smart", gpuCount: 1, tier: "secure" });
  });

  test("a template needs no model; the server says whether its runtime does", () => {
    expect(launchRequest(flags({ runtime: undefined, model: undefined, template: "ubuntu-24.04" }))).toMatchObject({
      templateId: "ubuntu-24.04",
      runtimeId: undefined,
    });
  });

  test("refuses what the command line alone shows to be wrong", () => {
    expect(refusal(() => launchRequest(flags({ template: "vllm" }))).message).toBe("Use either --runtime or --template, not both.");
    expect(refusal(() => launchRequest(flags({ runtime: undefined }))).message).toStartWith(
      "Choose what to run: --runtime <id> with --model <hf repo>, or --template <id>",
    );
    expect(refusal(() => launchRequest(flags({ model: undefined }))).message).toStartWith("--runtime needs --model <hf repo>");
    expect(refusal(() => launchRequest(flags({ maxPrice: "cheap" }))).message).toStartWith("--max-price: 'cheap' is not an amount in EUR");
  });
});

test("without --gpu no GPU type is sent to the check, which picks one", () => {
  expect(launchRequest(flags({ gpu: undefined })).gpuPreferences).toEqual([]);
});

describe("parseMaxPrice", () => {
  test.each([
    ["1.50", 150],
    ["1,5", 150],
    ["€2", 200],
    ["0.79/h", 79],
    ["€0.79 / h", 79],
    ["10 €/h", 1000],
  ])("'%s' is %d cents per hour", (text, cents) => {
    expect(parseMaxPrice(text)).toBe(cents);
  });

  test("zero and negative prices are refused in a price's words, not a top-up's", () => {
    for (const text of ["0", "0.00", "€0/h"]) {
      const message = refusal(() => parseMaxPrice(text)).message;
      expect(message).toContain("is zero: nothing could be placed");
      expect(message).not.toContain("top-up");
    }
    expect(refusal(() => parseMaxPrice("-1")).message).toBe("--max-price '-1' is negative. Give the most you will pay per hour in EUR, such as 1.50.");
    expect(refusal(() => parseMaxPrice("€-1")).message).toContain("is negative");
  });

  test("the rest of parseEur's rules hold, named after the flag", () => {
    expect(refusal(() => parseMaxPrice("1.234")).message).toStartWith("--max-price: '1.234' has more than 2 decimals");
    expect(refusal(() => parseMaxPrice("1,000.00")).message).toContain("without a thousands separator");
  });
});

describe("collectList", () => {
  test("repeated flags and comma lists keep their order", () => {
    let gpus = collectList("L40S", undefined);
    gpus = collectList("L4, A100-80G", gpus);
    expect(gpus).toEqual(["L40S", "L4", "A100-80G"]);
    expect(collectList("L4,,", undefined)).toEqual(["L4"]);
  });

  test("an empty value is refused", () => {
    expect(() => collectList(" , ", undefined)).toThrow(InvalidArgumentError);
  });
});

describe("wholeNumber", () => {
  test("accepts whole numbers in range only", () => {
    const gpus = wholeNumber(1, 8);
    expect(gpus("1")).toBe(1);
    expect(gpus("8")).toBe(8);
    for (const bad of ["0", "9", "1.5", "-1", "two", "", "1e1"]) expect(() => gpus(bad)).toThrow("Expected a whole number from 1 to 8.");
  });
});
