import { z } from "zod";
import { safeString } from "../validation";
import { instanceStates } from "./state-machine";

/** Serving names are the `model` id on /v1: lower-case, URL- and shell-friendly. */
export const servingName = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { message: "Use 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit." });

const region = z.string().regex(/^[a-z0-9-]{1,32}$/, { message: "Not a region name." });
const gpuId = safeString().min(1).max(32);

export const placementFields = {
  /** GPU types it may run on, most preferred first. */
  gpuPreferences: z.array(gpuId).min(1, { message: "Pick at least one GPU type." }).max(8),
  allowedRegions: z.array(region).max(16).default([]),
  maxPriceCentsPerHour: z.number().int().positive().nullable().optional(),
  placementMode: z.enum(["smart", "pinned"]).default("smart"),
  minVramGib: z.number().int().positive().nullable().optional(),
};

const launchFields = z.object({
  name: safeString().trim().max(80).optional(),
  description: safeString().trim().max(500).optional(),
  /** A serving runtime (vLLM, TEI, llama.cpp, Ollama, reference)… */
  runtimeId: safeString().max(32).optional(),
  /** …or a template from the Pods document. */
  templateId: safeString().max(64).optional(),
  hfRepo: safeString().trim().max(200).optional(),
  /** For GGUF repos: which file to serve (default: a Q4_K_M one). */
  modelFile: safeString().max(200).optional(),
  task: z.enum(["chat", "embeddings"]).optional(),
  contextLength: z.number().int().min(128).max(1_048_576).optional(),
  servingName: servingName.optional(),
  gpuCount: z.number().int().min(1).max(8).default(1),
  tier: z.enum(["secure", "community"]).default("secure"),
  /** A custom image: refused unless it is a catalog image pinned by digest. */
  image: safeString().max(300).optional(),
  /** Used once to read a gated repo's metadata; never stored. */
  hfToken: safeString().max(200).optional(),
  ...placementFields,
  /** GPU types it may run on, most preferred first; none: the cheapest free GPU the model fits on, picked at launch. */
  gpuPreferences: z.array(gpuId).max(8).default([]),
});

/** A launch serves a runtime or starts a template: exactly one of the two. */
const oneTarget = (input: { runtimeId?: string; templateId?: string }) => Boolean(input.runtimeId) !== Boolean(input.templateId);
const oneTargetIssue = { message: "Choose either a runtime or a template.", path: ["runtimeId"] };

export const launchInput = launchFields.refine(oneTarget, oneTargetIssue);

export type LaunchInput = z.infer<typeof launchInput>;

/**
 * What the Launch page and `--validate-only` ask before a launch: its model and placement fields, where
 * no GPU type asks for the default pick (the cheapest free GPU the model fits on).
 */
export const launchCheckInput = launchFields.omit({ name: true, description: true, servingName: true, image: true }).refine(oneTarget, oneTargetIssue);

export type LaunchCheckInput = z.infer<typeof launchCheckInput>;

export const settingsInput = z.object({
  name: safeString().trim().max(80).nullable().optional(),
  description: safeString().trim().max(500).nullable().optional(),
  servingName: servingName.optional(),
  gpuPreferences: placementFields.gpuPreferences.optional(),
  allowedRegions: placementFields.allowedRegions.optional(),
  maxPriceCentsPerHour: placementFields.maxPriceCentsPerHour,
  placementMode: placementFields.placementMode.optional(),
  minVramGib: placementFields.minVramGib,
});

export type SettingsInput = z.infer<typeof settingsInput>;

/** An instance id as callers pass it. */
export const instanceId = safeString().min(1).max(64);
export const idInput = z.object({ id: instanceId });
/** Bulk stop and delete: one transaction for all of them. */
export const idsInput = z.object({ ids: z.array(instanceId).min(1).max(200) });

/** A page of the Instances list, newest first, optionally of one state. */
export const instanceListQuery = z.object({
  state: z.enum(instanceStates).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: safeString().max(200).nullish(),
});

/** A page of an instance's timeline, oldest first. */
export const instanceEventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: safeString().max(24).nullish(),
});

/** The runtime's (or the agent's) captured output, last lines kept. */
export const logsQuery = z.object({
  stream: z.enum(["runtime", "agent"]).default("runtime"),
  tailLines: z.coerce.number().int().min(1).max(2000).default(200),
  runId: safeString().max(64).optional(),
});

/**
 * A client's key for one launch (the `Idempotency-Key` header): a retry with the same key gets the instance the
 * first attempt made, never a second one.
 */
export const idempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: "Use 1–255 visible ASCII characters." });
