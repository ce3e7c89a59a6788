/**
 * RunPod as a provider, written from RunPod's REST API 2.0 reference: `api-reference-v2/openapi.json` in the GitHub
 * repository runpod/docs (info.version 2.0.0; server https://api.runpod.io; bearer API key; RFC 9457 errors), with
 * `api-reference-v2/migrate-from-v1.mdx` beside it. Operations used:
 * - `GET /v2/catalog/gpus?include=AVAILABILITY&cloud=…&count=…` (listGpuTypes): types, per-cloud prices and per-pod
 *   maxima, availability per data center, for offers;
 * - `POST /v2/pods` (createPod), `GET /v2/pods/{id}` (getPod), `GET /v2/pods` (listPods);
 * - `DELETE /v2/pods/{id}` (deletePod, "equivalent to" the `terminate` action): stopping would keep the pod's disk
 *   (and its disk bill), and the platform releases a pod rather than pausing it.
 * Not used: `GET /v2/pods/{id}/logs` streams Server-Sent Events without end, which the shared HTTP client, reading an
 * answer to its end, cannot consume; so this adapter has no `logs()`.
 */
import type { Offer } from "../../scheduler/offers";
import { CloudHttp, CloudHttpError } from "../http";
import { type OfferQuery, type PodHandle, type PodLaunch, type PodRef, type PodStatus, type Provider, ProviderUnavailableError, ProvisionError } from "../seam";
import { DEFAULT_RUNPOD_API_URL, defaultRunPodGpuTypes, type RunPodOptions } from "./options";
import type { RunPodGpuType, RunPodPod } from "./runpod-api";
import { cloudOfTier, offersFromCatalog, RUNPOD_PROVIDER_ID, type Tier } from "./runpod-offers";
import { createPodBody, podAddress, podStatus, portsOfPod } from "./runpod-pods";

export { runpodOptionsFromEnv } from "./options";

export class RunPodProvider implements Provider {
  readonly id = RUNPOD_PROVIDER_ID;
  private readonly http: CloudHttp;
  private readonly namePrefix: string;
  private readonly gpuTypes: Record<string, string>;
  private readonly diskGb: number;

  constructor(options: RunPodOptions) {
    this.http = new CloudHttp({
      baseUrl: options.baseUrl ?? DEFAULT_RUNPOD_API_URL,
      headers: { authorization: `Bearer ${options.apiKey}` },
      sleep: options.sleep,
      ...options.http,
    });
    this.namePrefix = options.namePrefix ?? "qdz-";
    this.gpuTypes = options.gpuTypes ?? defaultRunPodGpuTypes;
    this.diskGb = options.containerDiskGb ?? 50;
  }

  /** One catalog call per tier asked for: availability is computed per cloud and per GPU count. */
  async offers(query: OfferQuery): Promise<Offer[]> {
    const tiers: Tier[] = query.tier ? [query.tier] : ["secure", "community"];
    const platformTypeOf = (runpodId: string) => Object.entries(this.gpuTypes).find(([, id]) => id === runpodId)?.[0];
    const offers: Offer[] = [];
    for (const tier of tiers) {
      const started = performance.now();
      const answer = await this.call(() =>
        this.http.request<{ gpus: RunPodGpuType[] }>("GET", "/v2/catalog/gpus", {
          query: { include: "AVAILABILITY", cloud: cloudOfTier[tier], count: Math.max(1, query.gpuCount) },
        }),
      );
      offers.push(...offersFromCatalog(answer.gpus ?? [], tier, query, platformTypeOf, Math.round(performance.now() - started)));
    }
    return offers;
  }

  async provision(launch: PodLaunch, offer: Offer): Promise<PodHandle> {
    const runpodGpuId = this.gpuTypes[offer.gpuType];
    if (!runpodGpuId) throw new ProvisionError(`RunPod has no GPU type mapped for ${offer.gpuType}`, false);
    let pod: RunPodPod;
    try {
      pod = await this.http.request<RunPodPod>("POST", "/v2/pods", {
        body: createPodBody(launch, offer, runpodGpuId, this.namePrefix + launch.podId, this.diskGb),
      });
    } catch (error) {
      throw provisionError(error);
    }
    return { podId: launch.podId, providerId: this.id, externalId: pod.id, region: pod.dataCenterId ?? offer.region, address: podAddress(pod, launch.ports) };
  }

  async status(ref: PodRef): Promise<PodStatus> {
    const pod = await this.podOrNull(ref.externalId);
    return pod ? podStatus(pod, portsOfPod(pod)) : { state: "gone" };
  }

  /** Terminates the pod; a pod RunPod no longer has (404) is already released. */
  async stop(ref: PodRef): Promise<void> {
    try {
      await this.http.request("DELETE", `/v2/pods/${encodeURIComponent(ref.externalId)}`);
    } catch (error) {
      if (error instanceof CloudHttpError && error.status === 404) return;
      throw new ProviderUnavailableError(this.id, describe(error));
    }
  }

  async pods(): Promise<{ podId: string; externalId: string; createdAt: Date }[]> {
    const answer = await this.call(() => this.http.request<{ pods: RunPodPod[] }>("GET", "/v2/pods"));
    return (answer.pods ?? [])
      .filter((pod) => pod.name.startsWith(this.namePrefix) && pod.status !== "TERMINATED")
      .map((pod) => ({ podId: pod.name.slice(this.namePrefix.length), externalId: pod.id, createdAt: new Date(pod.createdAt) }));
  }

  private async podOrNull(externalId: string): Promise<RunPodPod | null> {
    try {
      return await this.http.request<RunPodPod>("GET", `/v2/pods/${encodeURIComponent(externalId)}`);
    } catch (error) {
      if (error instanceof CloudHttpError && error.status === 404) return null;
      throw new ProviderUnavailableError(this.id, describe(error));
    }
  }

  /** A read that failed for good: the provider could not answer, which the offers cache and the reconciler tell apart from "nothing". */
  private async call<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw new ProviderUnavailableError(this.id, describe(error));
    }
  }
}

/**
 * RunPod's refusal as a provision error. The v2 reference documents no capacity error of its own; RunPod's words for
 * it (from v1 and the console) are matched on the message, and count as retryable like 429, 5xx and network failures.
 * A bad request (400/422), a bad key (401/403) or a conflict will fail the same way on any offer.
 */
function provisionError(error: unknown): ProvisionError {
  if (!(error instanceof CloudHttpError)) return new ProvisionError(`RunPod: ${describe(error)}`, true);
  const noCapacity =
    /no (longer any )?instances? (currently )?available|not enough (capacity|resources)|does not have the resources|insufficient capacity|out of stock/i;
  return new ProvisionError(`RunPod: ${error.message}`, error.transient || noCapacity.test(error.apiMessage));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
