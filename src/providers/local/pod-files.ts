import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What the local provider keeps about a pod, in `<pods dir>/<pod id>/pod.json`. */
export interface LocalPodRecord {
  podId: string;
  instanceId: string;
  runId: string;
  gpuType: string;
  gpuCount: number;
  /** The offer's tier: only community pods can be reclaimed. Absent in records written before reclaims. */
  tier?: "secure" | "community";
  /** The sidecar agent's pid; it leads the pod's process group. */
  agentPid: number | null;
  agentPort: number;
  runtimePort: number | null;
  ports: { name: string; port: number; hostPort: number }[];
  createdAt: string;
  stoppedAt: string | null;
  /** When the provider took the pod back (`LocalProvider.reclaim`), as a cloud takes back a spot pod. */
  reclaimedAt?: string | null;
}

export function podDir(podsDir: string, podId: string): string {
  return join(podsDir, podId);
}

export function writePodRecord(podsDir: string, record: LocalPodRecord): void {
  const dir = podDir(podsDir, record.podId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pod.json"), JSON.stringify(record, null, 2));
}

export function readPodRecord(podsDir: string, podId: string): LocalPodRecord | null {
  const file = join(podDir(podsDir, podId), "pod.json");
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8"));
}

export function listPodIds(podsDir: string): string[] {
  if (!existsSync(podsDir)) return [];
  return readdirSync(podsDir).filter((name) => existsSync(join(podsDir, name, "pod.json")));
}
