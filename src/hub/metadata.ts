import { baseModelOf, detectFormats } from "./capabilities";
import type { HubClient } from "./client";
import { HubError, HubGatedError } from "./errors";
import { ggufAsConfig } from "./gguf-header";
import { type ModelConfig, type ModelInfo, modelConfigSchema } from "./schemas";
import type { SnapshotStore } from "./snapshots";
import { chooseGgufFile } from "./weights";

/** Everything an assessment reads about a repo, and where it came from. */
export interface ModelMetadata {
  repo: string;
  info: ModelInfo;
  /** config.json, or the base model's for a GGUF repo that has none; null when neither could be read. */
  config: ModelConfig | null;
  /** Where the config came from when not the repo's config.json: a base repo id, or `repo/file.gguf` for a GGUF header. */
  configFrom?: string;
  source: "hub" | "snapshot";
  warnings: string[];
}

/**
 * Reads a repo's model info and config.json from the hub; when the hub cannot
 * be reached, from the bundled snapshot of that repo, saying so. Throws a
 * `HubError` when there is nothing to assess (not found, gated, unreachable
 * without a snapshot).
 */
export async function loadModelMetadata(
  hub: HubClient,
  repo: string,
  snapshots: SnapshotStore | null,
  options: { ggufFile?: string } = {},
): Promise<ModelMetadata> {
  const warnings: string[] = [];
  let info: ModelInfo;
  let source: ModelMetadata["source"] = "hub";
  try {
    info = await hub.modelInfo(repo);
  } catch (error) {
    const unreachable = error instanceof HubError && error.code === "unreachable" ? error : undefined;
    const snapshot = unreachable ? snapshots?.modelInfo(repo) : undefined;
    if (!unreachable || !snapshot) throw error;
    info = snapshot;
    source = "snapshot";
    warnings.push(`${unreachable.message} This assessment uses the bundled snapshot of ${repo}'s metadata.`);
    if (info.gated) {
      // Offline, access cannot be checked; without a token the download would fail for certain.
      if (!hub.hasToken) throw new HubGatedError(`${repo} is gated: it needs a Hugging Face token with access.`, repo);
      warnings.push(`${repo} is gated; whether the token has access is checked when the weights download.`);
    }
  }

  const sources = { hub: source === "hub" ? hub : null, snapshots };
  const listsConfig = info.siblings.length === 0 || info.siblings.some((s) => s.rfilename === "config.json");
  let config = listsConfig ? await readConfig(sources, info.id || repo, warnings, true) : null;
  let configFrom: string | undefined;
  if (!config && detectFormats(info).includes("gguf")) {
    // GGUF repos ship no config.json: the file's own header says its shape, else the original model's config.
    const gguf = source === "hub" ? chooseGgufFile(info, options.ggufFile) : undefined;
    if (gguf) {
      config = await readGgufHeader(hub, info.id || repo, gguf.file);
      if (config) configFrom = `${info.id || repo}/${gguf.file}`;
    }
    const base = config ? undefined : baseModelOf(info);
    if (base) {
      config = await readConfig(sources, base, warnings, false);
      if (config) configFrom = base;
    }
  }
  return { repo: info.id || repo, info, config, configFrom, source, warnings };
}

/**
 * config.json from the hub, else from the snapshot (unless the hub said the
 * file does not exist). A gated refusal of the repo's own config is the
 * answer: the hub shows a gated repo's model info to anyone but its files
 * only to those with access. A base model's refusal just means its config
 * comes from a snapshot, or stays unknown.
 */
async function readConfig(
  sources: { hub: HubClient | null; snapshots: SnapshotStore | null },
  repo: string,
  warnings: string[],
  own: boolean,
): Promise<ModelConfig | null> {
  let failure: HubError | undefined;
  if (sources.hub) {
    try {
      return parseConfig(await sources.hub.fetchJson(repo, "config.json"));
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      if (own && error.code === "gated") throw error;
      failure = error;
    }
  }
  if (failure?.code === "not_found") return null;
  const snapshot = parseConfig(sources.snapshots?.json(repo, "config.json"));
  if (snapshot && failure?.code === "unreachable") warnings.push(`config.json of ${repo} comes from the bundled snapshot: ${failure.message}`);
  return snapshot;
}

/** A GGUF file's hyperparameters as a config; null when unreadable. A gated refusal is the answer, as for config.json. */
async function readGgufHeader(hub: HubClient, repo: string, file: string): Promise<ModelConfig | null> {
  try {
    const header = await hub.ggufHeader(repo, file);
    return ggufAsConfig(header.metadata) ?? null;
  } catch (error) {
    if (error instanceof HubError && error.code !== "gated") return null;
    throw error;
  }
}

function parseConfig(value: unknown): ModelConfig | null {
  const parsed = modelConfigSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
