import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { KubernetesOptions } from "./options";

export function kubeConfig(auth: KubernetesOptions["auth"]): KubeConfig {
  const config = new KubeConfig();
  if ("inCluster" in auth) config.loadFromCluster();
  else config.loadFromFile(auth.kubeconfig);
  return config;
}

export function coreApi(config: KubeConfig): CoreV1Api {
  return config.makeApiClient(CoreV1Api);
}

/**
 * A call the API server refused or never answered, in its own words: `status` is 0 when it was not reached,
 * `reason` the Status object's (`NotFound`, `AlreadyExists`, `Invalid`, `Forbidden`).
 */
export class KubernetesApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  /** Unreachable, timed out, 429 or 5xx: the same call may work later. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  /** A ResourceQuota refused it: capacity, not the launch, is what is missing. */
  get quotaExceeded(): boolean {
    return this.status === 403 && /exceeded quota/i.test(this.message);
  }
}

/** Runs one API call with a deadline, turning whatever it throws into a KubernetesApiError. */
export async function call<T>(what: string, timeoutMs: number, request: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The client takes no deadline per call; the request is left to finish on its own, unanswered.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KubernetesApiError(0, "Timeout", `${what}: no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([request(), deadline]);
  } catch (error) {
    throw asApiError(what, error);
  } finally {
    clearTimeout(timer);
  }
}

function asApiError(what: string, error: unknown): KubernetesApiError {
  if (error instanceof KubernetesApiError) return error;
  if (error instanceof ApiException) {
    const status = statusObject(error.body);
    const code = Number(error.code) || 0;
    return new KubernetesApiError(code, status?.reason ?? String(code), `${what}: ${code} ${status?.message ?? (code === 401 ? "Unauthorized" : "")}`.trim());
  }
  return new KubernetesApiError(0, "Unreachable", `${what}: ${error instanceof Error ? error.message : String(error)}`);
}

/** The API server's `Status` object from an error body (JSON text), when it sent one. */
function statusObject(body: unknown): { reason?: string; message?: string } | null {
  try {
    const parsed = typeof body === "string" ? JSON.parse(body) : body;
    return parsed && typeof parsed === "object" && (parsed as { kind?: string }).kind === "Status" ? (parsed as { reason?: string; message?: string }) : null;
  } catch {
    return null;
  }
}

export const isNotFound = (error: unknown) => error instanceof KubernetesApiError && error.status === 404;
export const isAlreadyExists = (error: unknown) => error instanceof KubernetesApiError && error.status === 409;
