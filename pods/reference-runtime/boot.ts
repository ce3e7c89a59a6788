/**
 * What `GET /health` answers. The platform's sidecar agent polls it and
 * forwards phase and progress to the control plane, so this shape is a
 * contract: change it only together with the agent.
 */
export type BootPhase = "pulling_image" | "downloading_model" | "loading_model";

export type BootStatus =
  | {
      status: "booting";
      phase: BootPhase;
      /** 0..1: the download's share done while downloading_model; 0 before it and 1 after. */
      progress: number;
      message: string;
    }
  | { status: "ok" };

/** How a boot's time is split between its phases, in order; the shares add up to 1. */
const PHASES: readonly (readonly [BootPhase, number])[] = [
  ["pulling_image", 0.2],
  ["downloading_model", 0.6],
  ["loading_model", 0.2],
];

/** The simulated boot at `elapsedMs` into a boot lasting `bootMs`. */
export function bootStatus(elapsedMs: number, bootMs: number, model: string): BootStatus {
  if (elapsedMs >= bootMs) return { status: "ok" };
  let phaseStart = 0;
  for (const [phase, share] of PHASES) {
    const phaseEnd = phaseStart + share * bootMs;
    if (elapsedMs < phaseEnd || phase === "loading_model") {
      const within = Math.min(1, Math.max(0, (elapsedMs - phaseStart) / (phaseEnd - phaseStart)));
      return describe(phase, within, model);
    }
    phaseStart = phaseEnd;
  }
  return { status: "ok" };
}

function describe(phase: BootPhase, within: number, model: string): BootStatus {
  switch (phase) {
    case "pulling_image":
      return { status: "booting", phase, progress: 0, message: "Pulling the runtime image (simulated by the reference runtime)." };
    case "downloading_model": {
      const progress = Math.floor(within * 1000) / 1000;
      return { status: "booting", phase, progress, message: `Downloading ${model}: ${Math.round(progress * 100)}% (simulated; no weights are fetched).` };
    }
    case "loading_model":
      return { status: "booting", phase, progress: 1, message: `Loading ${model} (simulated by the reference runtime).` };
  }
}
