import { InvalidArgumentError } from "commander";
import type { Client } from "../../client";
import { UsageError } from "../../errors";
import { parseEur } from "../../money";

/** The launch as the CLI sends it: GPU types always a list (empty until the check picks one). */
export type LaunchRequest = Parameters<Client["instances"]["launch"]["mutate"]>[0] & { gpuPreferences: string[] };

/** `qdz instances launch` flags as commander hands them over. */
export interface LaunchFlags {
  runtime?: string;
  template?: string;
  model?: string;
  file?: string;
  task?: "chat" | "embeddings";
  context?: number;
  servingName?: string;
  name?: string;
  description?: string;
  gpu?: string[];
  gpus: number;
  tier: "secure" | "community";
  region?: string[];
  maxPrice?: string;
  pinned?: boolean;
  minVram?: number;
  hfTokenStdin?: boolean;
  validateOnly?: boolean;
  wait?: boolean;
  timeout: number;
}

const CATALOG_HINT = "`qdz instances catalog` lists them";

/**
 * The flags as the launch procedure's input. Checks what the command line
 * alone can tell (exit 2 before anything is sent); the server checks the rest.
 */
export function launchRequest(flags: LaunchFlags, hfToken?: string): LaunchRequest {
  if (flags.runtime && flags.template) throw new UsageError("Use either --runtime or --template, not both.");
  if (!flags.runtime && !flags.template) {
    throw new UsageError(`Choose what to run: --runtime <id> with --model <hf repo>, or --template <id> (${CATALOG_HINT}).`);
  }
  if (flags.runtime && !flags.model) throw new UsageError("--runtime needs --model <hf repo>, such as --model Qwen/Qwen2.5-0.5B-Instruct.");
  return {
    name: flags.name,
    description: flags.description,
    runtimeId: flags.runtime,
    templateId: flags.template,
    hfRepo: flags.model,
    modelFile: flags.file,
    task: flags.task,
    contextLength: flags.context,
    servingName: flags.servingName,
    // None: the launch check picks the cheapest free GPU the model fits on, and says so.
    gpuPreferences: flags.gpu ?? [],
    gpuCount: flags.gpus,
    tier: flags.tier,
    allowedRegions: flags.region ?? [],
    maxPriceCentsPerHour: flags.maxPrice === undefined ? undefined : parseMaxPrice(flags.maxPrice),
    placementMode: flags.pinned ? "pinned" : "smart",
    minVramGib: flags.minVram,
    hfToken,
  };
}

/**
 * `--max-price 1.50` (or `€1.50/h`) to cents per hour, read exactly by
 * `parseEur`. Zero and negative prices are refused here, in a price's own
 * words: `parseEur` words those refusals for a top-up.
 */
export function parseMaxPrice(text: string): number {
  const amount = text.trim().replace(/\s*\/\s*h$/i, "");
  if (/^[-−]/.test(amount.replace(/^€\s*/, "")))
    throw new UsageError(`--max-price '${text}' is negative. Give the most you will pay per hour in EUR, such as 1.50.`);
  let cents: number;
  try {
    cents = parseEur(amount);
  } catch (error) {
    if (error instanceof UsageError && /is zero/.test(error.message)) {
      throw new UsageError(`--max-price '${text}' is zero: nothing could be placed. Give the most you will pay per hour in EUR, such as 1.50.`);
    }
    if (error instanceof UsageError) throw new UsageError(`--max-price: ${error.message}`);
    throw error;
  }
  return cents;
}

/** Repeatable flags that also take a comma list: `--gpu L4 --gpu L40S` and `--gpu L4,L40S` both give [L4, L40S], in order. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError("Expected a value, such as L4 or L4,L40S.");
  return [...(previous ?? []), ...items];
}

/** A commander parser for whole numbers from `min` to `max`; commander reports a refusal as a usage error. */
export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < min || number > max) throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return number;
  };
}
