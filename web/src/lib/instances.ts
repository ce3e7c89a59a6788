// Pure, dependency-free rules shared with the api, so the Launch page shows what the api will do.
import { servingNameFrom } from "../../../src/instances/serving-name";
import { modelClassFor } from "../../../src/pricing/model-class";
// Type-only, as in trpc.ts: the shapes the api stores as JSON (placement decisions), never its code.
import type { Offer } from "../../../src/scheduler/offers";
import type { PlacementWeights } from "../../../src/scheduler/placement";
import type { Outputs } from "./trpc";

export type InstanceItem = Outputs["instances"]["list"][number];
export type InstanceDetail = Outputs["instances"]["get"];
export type InstanceState = InstanceItem["state"];
export type Catalog = Outputs["instances"]["catalog"];
export type ModelAssessment = Outputs["instances"]["validate"];
export type ModelClass = InstanceDetail["pricingSnapshot"]["modelClass"];
export type Run = InstanceDetail["runs"][number];
export type InstanceEvent = InstanceDetail["events"][number];

/** A placement decision's `considered` and `attempts`, as `src/instances/provisioning.ts` records them. */
export interface PlacementConsidered {
  weights: PlacementWeights;
  ranked: { offer: Offer; priceCentsPerHour: number; score: number; components: PlacementWeights; reason: string }[];
  rejected: { offer: Offer; reason: string }[];
  /** Providers left out because they were not answering (degraded), with why; absent in older decisions. */
  unavailable?: { providerId: string; reason: string }[];
}
export interface PlacementAttempt {
  offerId: string;
  outcome: "provisioned" | "failed";
  error?: string;
}
export type { Offer, PlacementWeights };

interface StateStyle {
  label: string;
  /** daisyUI badge classes. */
  badge: string;
  /** Something is under way: shown with a spinner, and lists poll faster. */
  busy: boolean;
  /** What the state means, for the badge's tooltip. */
  meaning: string;
}

/** One look per lifecycle state, everywhere an instance is shown. */
export const states: Record<InstanceState, StateStyle> = {
  pending: { label: "pending", badge: "badge-info badge-soft", busy: true, meaning: "Placing the pod, pulling the image and loading the model. Not billed." },
  running: { label: "running", badge: "badge-success badge-soft", busy: false, meaning: "Serving. Billed per running second." },
  // daisyUI's soft warning puts yellow text on cream; the warning's own dark content colour reads better.
  stopping: {
    label: "stopping",
    badge: "border-warning/40 bg-warning/15 text-warning-content",
    busy: true,
    meaning: "Releasing the pod; the final partial second is settled.",
  },
  stopped: { label: "stopped", badge: "badge-ghost", busy: false, meaning: "Pod released. Settings are kept; Start launches a new pod. Not billed." },
  failed: {
    label: "failed",
    badge: "badge-error badge-soft",
    busy: false,
    meaning: "Allocation, boot or runtime error. The reason and a remediation are on the Details tab.",
  },
  non_bootstrap: {
    label: "non-bootstrap",
    badge: "badge-error badge-outline",
    busy: false,
    meaning: "The pod came up but the runtime never became healthy in time. Pod released; not billed.",
  },
};

/** The actions a person can take and the states they start from: `actions` in src/instances/state-machine.ts. */
export const canStart = (state: InstanceState) => state === "stopped" || state === "failed" || state === "non_bootstrap";
export const canStop = (state: InstanceState) => state === "pending" || state === "running";

/** The Instances list and an instance's page poll faster while something is under way. */
export function pollInterval(instanceStates: InstanceState[]): number {
  return instanceStates.some((state) => states[state].busy) ? 2_000 : 10_000;
}

/** `1×L4`: the GPU the pod runs on, or the first preference before it is placed. */
export function gpuLabel(instance: Pick<InstanceItem, "gpuType" | "gpuCount" | "gpuPreferences">): string {
  return `${instance.gpuCount}×${instance.gpuType ?? instance.gpuPreferences[0] ?? "GPU"}`;
}

/** Boot phases as the sidecar agent names them, in words. */
const phases: Record<string, string> = {
  queued: "Queued",
  allocating: "Allocating the pod",
  starting: "Starting",
  pulling_image: "Pulling the image",
  downloading_model: "Downloading the model",
  loading_model: "Loading the model",
};

export function phaseLabel(phase: string): string {
  return phases[phase] ?? phase.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

/** `0.42` → `42 %`; null when the phase has no measurable progress. */
export function percent(progress: number | null | undefined): string | null {
  return progress === null || progress === undefined ? null : `${Math.round(progress * 100)} %`;
}

/** How each runtime is shown on the Launch page: the catalog's name is the fallback. */
export const runtimeInfo: Record<string, { label: string; description: string }> = {
  vllm: { label: "vLLM", description: "High-throughput serving for chat, completion, embedding and vision models in safetensors." },
  tei: { label: "Hugging Face TEI", description: "Text Embeddings Inference: fast embeddings for BERT-style, GTE and Qwen3 embedders." },
  "llama.cpp": { label: "llama.cpp", description: "Quantized GGUF models on modest GPUs, through llama.cpp's OpenAI-compatible server." },
  ollama: { label: "Ollama", description: "GGUF models through the Ollama daemon, for chat and embeddings." },
  reference: {
    label: "Reference runtime",
    description: "QDivZero's own deterministic OpenAI-compatible server: any model, for trying the platform end to end.",
  },
};

/** The order runtimes are offered in: the production ones first. */
export const runtimeOrder = ["vllm", "tei", "llama.cpp", "ollama", "reference"];

export const tiers = {
  secure: { label: "Secure", description: "Guaranteed capacity in vetted data centres. Never reclaimed." },
  community: { label: "Community", description: "Spot or shared capacity at a lower rate. The provider may reclaim it." },
} as const;

export const placementModes = {
  smart: { label: "Smart", description: "Every Start picks the best offer again, on any provider." },
  pinned: { label: "Pinned", description: "Stays with the provider of its first placement." },
} as const;

export const modelClasses: Record<ModelClass, string> = {
  pod: "Pod (no model)",
  embeddings: "Embeddings",
  llm: "LLM under 15 B parameters",
  llm_large: "LLM of 15 B parameters or more",
};

/** The price table row a launch would use: the api's own rule (src/pricing/model-class.ts). */
export const modelClassOf = modelClassFor;

/** `494032768` → `494 M`, `8190735360` → `8.2 B`. */
export function formatParameters(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(count >= 1e10 ? 0 : 1)} B`;
  if (count >= 1e6) return `${Math.round(count / 1e6)} M`;
  return count.toLocaleString("en-IE");
}

/** VRAM to one decimal, none when whole: `2.3 GiB`, `24 GiB`. */
export function formatGiB(gib: number): string {
  const tenths = Math.round(gib * 10) / 10;
  return `${Number.isInteger(tenths) ? tenths : tenths.toFixed(1)} GiB`;
}

/** `vllm/vllm-openai@sha256:3018…` → its name and digest, shown apart in Settings. */
export function splitImage(image: string): { name: string; digest: string | null } {
  const at = image.indexOf("@");
  return at < 0 ? { name: image, digest: null } : { name: image.slice(0, at), digest: image.slice(at + 1) };
}

/** Where the snippets read the API key from: the variable the CLI reads too (README, `qdz --help`). */
export const API_KEY_ENV = "QDZ_API_KEY";

/** The OpenAI-compatible call for a serving instance, as the Compute document shows it. */
export function endpointSnippets(baseUrl: string, servingName: string, task: string | null) {
  if (task === "embeddings") {
    return {
      curl: `curl ${baseUrl}/embeddings \\
  -H "Authorization: Bearer $${API_KEY_ENV}" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "${servingName}",
    "input": "hello world"
  }'`,
      python: `import os

from openai import OpenAI

client = OpenAI(
    base_url="${baseUrl}",
    api_key=os.environ["${API_KEY_ENV}"],
)

resp = client.embeddings.create(
    model="${servingName}",
    input="hello world",
)
print(resp.data[0].embedding[:8], "...")`,
    };
  }
  return {
    curl: `curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer $${API_KEY_ENV}" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "${servingName}",
    "messages": [{"role": "user", "content": "Hello"}]
  }'`,
    python: `import os

from openai import OpenAI

client = OpenAI(
    base_url="${baseUrl}",
    api_key=os.environ["${API_KEY_ENV}"],
)

resp = client.chat.completions.create(
    model="${servingName}",
    messages=[{"role": "user", "content": "Hello"}],
)
print(resp.choices[0].message.content)`,
  };
}

/** `Qwen/Qwen2.5-0.5B-Instruct` → `qwen2.5-0.5b-instruct`: the serving name the api picks when none is given (src/instances/serving-name.ts). */
export const defaultServingName = servingNameFrom;

/** `pick 1×L40S` → `Pick 1×L40S.`: the api's remediations are clauses, shown here as sentences. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

const toTheSecond = new Intl.DateTimeFormat("en-IE", { dateStyle: "medium", timeStyle: "medium" });

/** "24 Nov 2025, 14:03:12": state changes seconds apart need their seconds. */
export function formatSecond(value: Date): string {
  return toTheSecond.format(value);
}

/** `{ secure: { label, description } }` → radio choices, in the record's order. */
export function choicesOf<T extends string>(record: Record<T, { label: string; description: string }>) {
  return (Object.entries(record) as [T, { label: string; description: string }][]).map(([value, info]) => ({ value, ...info }));
}
