import { type Command, Option } from "commander";
import { action } from "../action";
import { launch } from "./instances/launch";
import { collectList, wholeNumber } from "./instances/launch-options";
import { remove, start, stop } from "./instances/lifecycle";
import { catalog, list, show } from "./instances/view";
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from "./instances/wait";

export function instancesCommands(program: Command): void {
  // `qdz instance show …` reads as well as `qdz instances list`: both spellings work.
  const instances = program.command("instances").alias("instance").description("launch, watch, start, stop and delete instances");

  instances.command("list").description("list the account's instances, newest first").action(action(list));
  instances
    .command("show")
    .description("show an instance: state, endpoint, placement, failure and remediation, events, the current run")
    .argument("<id>", "the instance's id (inst_…), from `qdz instances list`")
    .option("--metered", "print the metering as JSON: billed seconds, rate, charge so far, and the ledger's debits and refunds, per run and in total")
    .action(action(show));
  instances.command("catalog").description("list the GPU types, runtimes and templates `launch` takes").action(action(catalog));

  const waitTimeout = () =>
    new Option("--timeout <seconds>", "with --wait: give up waiting after this long (the instance goes on)")
      .argParser(wholeNumber(1, MAX_WAIT_SECONDS))
      .default(DEFAULT_WAIT_SECONDS);

  instances
    .command("launch")
    .description("launch an instance serving a Hugging Face model (--runtime) or a pod template (--template)")
    .option("--runtime <id>", "the serving runtime, such as vllm, tei, llama.cpp, ollama or reference")
    .option("--template <id>", "a pod template instead, such as ubuntu-24.04 or vllm")
    .option("--model <hf repo>", "the Hugging Face repo to serve, such as Qwen/Qwen2.5-0.5B-Instruct")
    .option("--file <name>", "for GGUF repos: the file to serve (default: a Q4_K_M one)")
    .addOption(new Option("--task <task>", "what to serve (default: what the model does)").choices(["chat", "embeddings"]))
    .option("--context <tokens>", "the context length (default: the model's)", wholeNumber(128, 1_048_576))
    .option("--serving-name <name>", "the `model` id on /v1 (default: from the repo name)")
    .option("--name <name>", "a display name")
    .option("--description <text>", "a description")
    .option(
      "--gpu <type>",
      "a GPU type it may run on; repeat it or give a comma list, most preferred first (default: the cheapest free GPU the model fits on)",
      collectList,
    )
    .option("--gpus <count>", "GPUs per pod", wholeNumber(1, 8), 1)
    .addOption(
      new Option("--tier <tier>", "capacity tier: secure is guaranteed, community is cheaper and may be reclaimed")
        .choices(["secure", "community"])
        .default("secure"),
    )
    .option("--region <region>", "a region it may run in (repeatable or a comma list; default: any)", collectList)
    .option("--max-price <eur/h>", "the most it may cost per hour in EUR, such as 1.50")
    .option("--pinned", "keep the first placement's provider on every start (default: re-place on each start)")
    .option("--min-vram <GiB>", "only GPUs with at least this much VRAM", wholeNumber(1, 10_000))
    .option("--hf-token-stdin", "read a Hugging Face token for a gated repo from stdin (used once, never stored)")
    .option("--validate-only", "check the model against the runtime and GPUs and whether it can be placed now, print the assessment, and launch nothing")
    .option("--wait", "wait until it runs (exit 0) or fails (exit 1), showing progress on stderr")
    .addOption(waitTimeout())
    .action(action(launch));

  instances
    .command("start")
    .description("start a stopped or failed instance again, on a new pod")
    .argument("<id>", "the instance's id")
    .option("--wait", "wait until it runs (exit 0) or fails (exit 1)")
    .addOption(waitTimeout())
    .action(action(start));
  instances
    .command("stop")
    .description("stop instances: their pods are released and billing ends; record and settings are kept")
    .argument("<id...>", "the instances' ids; several are stopped together, and those that cannot stop are listed")
    .option("--wait", "wait until they are stopped")
    .addOption(waitTimeout())
    .action(action(stop));
  instances
    .command("delete")
    .description("delete instances (a live pod is stopped first; billed time is not refunded)")
    .argument("<id...>", "the instances' ids")
    .option("-y, --yes", "do not ask for confirmation (needed when not at a terminal)")
    .action(action(remove));
}
