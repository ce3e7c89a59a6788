/**
 * The Vast.ai provider: GPU capacity rented on Vast's marketplace through its REST API.
 *
 * Written from Vast's published reference, `api-reference/openapi.yaml` in the repository vast-ai/docs (commit
 * 007833c846f912f7968ff298db8525b642c7db8d); operations and field names as it gives them (see `vast-api.ts`):
 * searchOffers `POST /api/v0/bundles`, createInstance `PUT /api/v0/asks/{id}`, showInstance `GET /api/v0/instances/{id}`,
 * destroyInstance `DELETE /api/v0/instances/{id}`, showInstances `GET /api/v1/instances`; `Authorization: Bearer`.
 * Logs are not read: Vast's showLogs (`PUT /api/v0/instances/request_logs/{id}`) answers a URL to fetch later, as text.
 *
 * An offer stands for the asks behind it (`offers.ts`), remembered a short while so provision rents a current one;
 * another process, or a stale memory, searches again. An instance is labelled with the prefix and the pod id.
 */

import { ZodError } from "zod";
import type { Offer } from "../../scheduler/offers";
import { CloudHttp, CloudHttpError } from "../http";
import { type OfferQuery, type PodHandle, type PodLaunch, type PodRef, type PodStatus, type Provider, ProviderUnavailableError, ProvisionError } from "../seam";
import { podStatus } from "./instance-status";
import { PORTS_ENV, parsePorts, rentBody } from "./launch";
import { groupOffers, type OfferGroup, type RentableAsk, searchBody, type Tier } from "./offers";
import { DEFAULT_VAST_GPU_TYPES, type VastGpuMapping, type VastOptions } from "./options";
import {
  createInstanceAnswerSchema,
  extraEnvValue,
  searchOffersAnswerSchema,
  showInstanceAnswerSchema,
  showInstancesAnswerSchema,
  VAST_PATHS,
  type VastInstance,
  type VastOffer,
  vastInstanceSchema,
  vastOfferSchema,
} from "./vast-api";

export { vastOptionsFromEnv } from "./options";

const PAGE_LIMIT = 25; // the most showInstances gives per page
const MAX_PAGES = 400;

export class VastProvider implements Provider {
  readonly id = "vast";
  private readonly http: CloudHttp;
  private readonly labelPrefix: string;
  private readonly gpuTypes: Record<string, VastGpuMapping>;
  private readonly diskGib: number;
  private readonly bidMargin: number;
  private readonly priceBand: number;
  private readonly askTtlMs: number;
  private readonly maxRentAttempts: number;
  private readonly now: () => Date;
  /** Offer id → the asks behind it when last searched. */
  private readonly asks = new Map<string, { asks: RentableAsk[]; expiresAt: number }>();
  /** Instance id → its launch's ports, and when it was first seen outbid (so repeated polls report one reclaim time). */
  private readonly ports = new Map<string, PodLaunch["ports"]>();
  private readonly reclaims = new Map<string, Date>();

  constructor(options: VastOptions) {
    this.http = new CloudHttp({
      baseUrl: options.baseUrl ?? "https://console.vast.ai",
      headers: { authorization: `Bearer ${options.apiKey}` },
      sleep: options.sleep,
      timeoutMs: options.timeoutMs,
    });
    this.labelPrefix = options.labelPrefix ?? "qdz-";
    this.gpuTypes = options.gpuTypes ?? DEFAULT_VAST_GPU_TYPES;
    this.diskGib = options.diskGib ?? 64;
    this.bidMargin = options.bidMargin ?? 0.1;
    this.priceBand = options.priceBand ?? 0.1;
    this.askTtlMs = options.askTtlMs ?? 120_000;
    this.maxRentAttempts = options.maxRentAttempts ?? 3;
    this.now = options.now ?? (() => new Date());
  }

  async offers(query: OfferQuery): Promise<Offer[]> {
    const tiers: Tier[] = query.tier ? [query.tier] : ["secure", "community"];
    try {
      const groups = (await Promise.all(tiers.map((tier) => this.search(query, tier)))).flat();
      return groups.map((g) => g.offer);
    } catch (error) {
      // A refused call or an answer not of the reference's shape: either way Vast gave no offers.
      if (error instanceof CloudHttpError || error instanceof ZodError) throw new ProviderUnavailableError(this.id, error.message);
      throw error;
    }
  }

  async provision(launch: PodLaunch, offer: Offer): Promise<PodHandle> {
    // An offer prices GPUs per hour for a machine of exactly `gpuCount`: a smaller pod would pay for all of them.
    if (launch.gpuCount !== offer.gpuCount)
      throw new ProvisionError(`${offer.id} rents ${offer.gpuCount} GPU(s) together, the pod needs ${launch.gpuCount}`, true);
    const candidates = (await this.asksFor(offer)).filter((a) => a.costCentsPerGpuHour <= offer.providerCostCentsPerGpuHour);
    for (const ask of candidates.slice(0, this.maxRentAttempts)) {
      const body = rentBody(launch, ask, { label: `${this.labelPrefix}${launch.podId}`, diskGib: this.diskGib });
      try {
        const answer = createInstanceAnswerSchema.parse(await this.http.request<unknown>("PUT", VAST_PATHS.createInstance(ask.askId), { body }));
        const externalId = String(answer.new_contract);
        this.ports.set(externalId, launch.ports);
        this.forget(offer.id, ask.askId);
        return { podId: launch.podId, providerId: this.id, externalId, region: offer.region, address: null };
      } catch (error) {
        if (!(error instanceof CloudHttpError)) throw error;
        if (!askGone(error)) throw provisionError(error);
        this.forget(offer.id, ask.askId); // rented by someone else since the search: the next one may still be free
      }
    }
    throw new ProvisionError(`no ask behind ${offer.id} is rentable at ${offer.providerCostCentsPerGpuHour} cents per GPU-hour any more`, true);
  }

  async status(pod: PodRef): Promise<PodStatus> {
    const instance = await this.instance(pod.externalId);
    const ports = this.ports.get(pod.externalId) ?? parsePorts(extraEnvValue(instance?.extra_env, PORTS_ENV));
    const status = podStatus(instance, ports, () => this.reclaims.get(pod.externalId) ?? this.now());
    if (status.state === "reclaimed") this.reclaims.set(pod.externalId, status.at);
    if (status.state === "gone") this.ports.delete(pod.externalId);
    return status;
  }

  async stop(pod: PodRef): Promise<void> {
    if (!isInstanceId(pod.externalId)) return;
    try {
      await this.http.request("DELETE", VAST_PATHS.instance(pod.externalId));
    } catch (error) {
      if (!(error instanceof CloudHttpError && error.status === 404)) throw error;
    }
    this.ports.delete(pod.externalId);
    this.reclaims.delete(pod.externalId);
  }

  async pods(): Promise<{ podId: string; externalId: string; createdAt: Date }[]> {
    const found: { podId: string; externalId: string; createdAt: Date }[] = [];
    let token: string | null | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = showInstancesAnswerSchema.parse(
        await this.http.request<unknown>("GET", VAST_PATHS.showInstances, {
          query: { limit: PAGE_LIMIT, select_cols: JSON.stringify(["id", "label", "start_date"]), after_token: token ?? undefined },
        }),
      );
      for (const instance of answer.instances) {
        if (!instance.label?.startsWith(this.labelPrefix)) continue;
        const createdAt = instance.start_date ? new Date(instance.start_date * 1000) : this.now();
        found.push({ podId: instance.label.slice(this.labelPrefix.length), externalId: String(instance.id), createdAt });
      }
      token = answer.next_token;
      if (!token) return found;
    }
    return found;
  }

  private async search(query: OfferQuery, tier: Tier): Promise<OfferGroup[]> {
    const started = performance.now();
    const answer = searchOffersAnswerSchema.parse(
      await this.http.request<unknown>("POST", VAST_PATHS.searchOffers, { body: searchBody(query, tier, { gpuTypes: this.gpuTypes, diskGib: this.diskGib }) }),
    );
    const latencyMs = Math.round(performance.now() - started);
    // One malformed ask is skipped, not the whole answer.
    const offers = answer.offers.flatMap((o) => {
      const parsed = vastOfferSchema.safeParse(o);
      return parsed.success ? [parsed.data as VastOffer] : [];
    });
    const groups = groupOffers(offers, query, tier, {
      providerId: this.id,
      gpuTypes: this.gpuTypes,
      bidMargin: this.bidMargin,
      priceBand: this.priceBand,
      latencyMs,
    });
    const expiresAt = this.now().getTime() + this.askTtlMs;
    for (const group of groups) this.asks.set(group.offer.id, { asks: group.asks, expiresAt });
    return groups;
  }

  /** The asks behind `offer`, searched again when this process has none fresh (offers are listed by another worker). */
  private async asksFor(offer: Offer): Promise<RentableAsk[]> {
    const known = this.asks.get(offer.id);
    if (known && known.expiresAt > this.now().getTime()) return known.asks;
    const query: OfferQuery = { gpuTypes: [offer.gpuType], gpuCount: offer.gpuCount, regions: [offer.region], tier: offer.tier };
    try {
      const groups = await this.search(query, offer.tier);
      return groups.find((g) => g.offer.id === offer.id)?.asks ?? [];
    } catch (error) {
      if (error instanceof CloudHttpError) throw provisionError(error);
      throw error;
    }
  }

  private forget(offerId: string, askId: number): void {
    const known = this.asks.get(offerId);
    if (known) known.asks = known.asks.filter((a) => a.askId !== askId);
  }

  private async instance(externalId: string): Promise<VastInstance | null> {
    if (!isInstanceId(externalId)) return null;
    try {
      const answer = showInstanceAnswerSchema.parse(await this.http.request<unknown>("GET", VAST_PATHS.instance(externalId)));
      // The reference lists no 404 here: an instance that is not (or no longer) the account's answers `instances: null`.
      return answer.instances ? vastInstanceSchema.parse(answer.instances) : null;
    } catch (error) {
      if (error instanceof CloudHttpError && error.status === 404) return null;
      throw error;
    }
  }
}

/** 404/410 `no_such_ask`: the ask was rented (or withdrawn) since the search. 400 `invalid_price`: the minimum bid rose. */
function askGone(error: CloudHttpError): boolean {
  return error.status === 404 || error.status === 410 || (error.status === 400 && /invalid_price|bid/i.test(error.apiMessage));
}

function provisionError(error: CloudHttpError): ProvisionError {
  // A 5xx or a timeout may succeed on another offer; a refused key or body fails on every one.
  return new ProvisionError(`Vast: ${error.message}`, error.transient);
}

function isInstanceId(externalId: string): boolean {
  return /^\d+$/.test(externalId);
}
