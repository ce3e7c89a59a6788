import { ConflictError } from "../errors";

export const instanceStates = ["pending", "running", "stopping", "stopped", "failed", "non_bootstrap"] as const;
export type InstanceState = (typeof instanceStates)[number];

/**
 * Every legal move. Beyond the spec's core (pending → running | failed |
 * non_bootstrap, running → stopping → stopped, running → failed, stopped →
 * pending): a pending instance may be stopped (cancelled), a reclaimed
 * community pod in smart mode goes back to pending to be re-placed (pinned,
 * it is stopped at once; a re-placement that finds no capacity stops), a stop
 * whose pod died on the way may end in failed, and Start works again after a
 * failure or a boot that never became healthy.
 */
export const transitions: Record<InstanceState, readonly InstanceState[]> = {
  pending: ["running", "failed", "non_bootstrap", "stopping", "stopped"],
  running: ["stopping", "failed", "pending", "stopped"],
  stopping: ["stopped", "failed"],
  stopped: ["pending"],
  failed: ["pending"],
  non_bootstrap: ["pending"],
};

export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return transitions[from].includes(to);
}

/** How a person would say an instance is in a state: "Instance 'x' has failed". */
const stateWords: Record<InstanceState, string> = {
  pending: "is still starting",
  running: "is running",
  stopping: "is stopping",
  stopped: "is stopped",
  failed: "has failed",
  non_bootstrap: "never became healthy",
};

/**
 * Why a move is refused, in product words: Stop (→ stopping) and Start (→ pending) are what people
 * ask for, so those say what to do instead; the other moves are the platform's own and say it plainly.
 */
function refusal(from: InstanceState, to: InstanceState, what: string): string {
  if (to === "stopping") {
    if (from === "failed") return `${what} has failed, so there is nothing to stop; start it again or delete it.`;
    if (from === "non_bootstrap") return `${what} never became healthy and its pod is released, so there is nothing to stop; start it again or delete it.`;
    if (from === "stopped") return `${what} is already stopped, so there is nothing to stop.`;
    if (from === "stopping") return `${what} is already stopping.`;
  }
  if (to === "pending") {
    if (from === "pending") return `${what} is already starting.`;
    if (from === "running") return `${what} is already running.`;
    if (from === "stopping") return `${what} is still stopping; start it once it has stopped.`;
  }
  return `${what} ${stateWords[from]}, so it cannot be marked ${to.replace("_", "-")} now.`;
}

/** A transition the state machine does not allow: refused, never ignored. */
export class IllegalTransitionError extends ConflictError {
  constructor(
    readonly from: InstanceState,
    readonly to: InstanceState,
    what: string,
  ) {
    super(refusal(from, to, what));
  }
}

export function assertTransition(from: InstanceState, to: InstanceState, what = "The instance"): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, what);
}

/** States in which a pod exists (or is being made or released) at a provider. */
export const podStates: readonly InstanceState[] = ["pending", "running", "stopping"];

/**
 * States whose run is live (being placed, booting or serving): the run ends when the instance leaves them,
 * by a stop, a crash, grace expiry or a delete. From `stopping` on, the run has already ended.
 */
export const liveRunStates = ["pending", "running"] as const satisfies readonly InstanceState[];

/** The user actions and the states they start from. */
export const actions = {
  start: ["stopped", "failed", "non_bootstrap"],
  stop: liveRunStates,
} as const satisfies Record<string, readonly InstanceState[]>;

export function isLiveRunState(state: InstanceState): boolean {
  return (liveRunStates as readonly InstanceState[]).includes(state);
}

export function canStart(state: InstanceState): boolean {
  return (actions.start as readonly InstanceState[]).includes(state);
}

export function canStop(state: InstanceState): boolean {
  return (actions.stop as readonly InstanceState[]).includes(state);
}
