import type { Outputs } from "../../client";

export type InstanceState = Outputs["instances"]["get"]["state"];
type BootProgress = NonNullable<Outputs["instances"]["get"]["progress"]>;

/** What `--wait` waits for: a serving instance (launch, start) or a released one (stop). */
export type Goal = "running" | "stopped";

/**
 * Where a wait stands in `state`. Waiting for `running`, any state the
 * instance cannot go on to `running` from without a new action ends the wait
 * as a failure: failed, non_bootstrap, or stopped by someone else meanwhile.
 */
export function settle(state: InstanceState, goal: Goal): "reached" | "failed" | "waiting" {
  if (state === goal) return "reached";
  if (goal === "running") return state === "pending" ? "waiting" : "failed";
  return state === "running" || state === "stopping" || state === "pending" ? "waiting" : "failed";
}

/** `0.35` → `[#######.............]  35%`; the fraction is clamped to 0..1. */
export function progressBar(fraction: number, width = 20): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.floor(clamped * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(clamped * 100)).padStart(3)}%`;
}

/** `downloading_model` → `downloading model`. */
export const phaseLabel = (phase: string) => phase.replaceAll("_", " ");

/**
 * One status line for a waiting instance: state, time waited, and while it
 * is pending its boot phase, a bar when the phase has a fraction, and the
 * phase's message (other states keep the last boot's progress; it is stale).
 */
export function progressLine(state: InstanceState, progress: BootProgress | null, waitedSeconds: number): string {
  const parts = [`${state.replace("_", "-")} ${Math.floor(waitedSeconds)}s`];
  if (progress && state === "pending") {
    parts.push(progress.progress === null ? phaseLabel(progress.phase) : `${phaseLabel(progress.phase)} ${progressBar(progress.progress)}`);
    if (progress.message) parts.push(progress.message);
  }
  return parts.join(" · ");
}

/**
 * When a line is worth printing again where stderr is a log, not a
 * terminal: on a new state or phase, or each tenth of a download; not on
 * every poll, so a long boot does not print hundreds of lines.
 */
export function progressKey(state: InstanceState, progress: BootProgress | null): string {
  if (state !== "pending") return state;
  const tenth = progress?.progress === null || progress?.progress === undefined ? "" : Math.floor(progress.progress * 10);
  return `${state}|${progress?.phase ?? ""}|${tenth}`;
}
