/**
 * Which row of the price table a launch uses. Pure and dependency-free: the
 * web app's Launch page imports it too, to quote before it launches.
 */
export type ModelClass = "pod" | "embeddings" | "llm" | "llm_large";

/** Chat models of this size or more are priced as `llm_large`. */
export const LARGE_MODEL_PARAMETERS = 15e9;

export function modelClassFor(launch: { task: string | null; parameterCount: number | null }): ModelClass {
  if (launch.task === null) return "pod";
  if (launch.task === "embeddings") return "embeddings";
  return (launch.parameterCount ?? 0) >= LARGE_MODEL_PARAMETERS ? "llm_large" : "llm";
}
