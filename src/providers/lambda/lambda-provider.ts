/**
 * Lambda Cloud (on-demand instances) as a provider, written from the Lambda Cloud API's OpenAPI document
 * (info.version 1.6.0, server https://cloud.lambdalabs.com/, bearer API key; Lambda serves it at
 * https://cloud.lambda.ai/api/v1/docs, read here from the copy at `.knowledge/lambda-openapi-spec.json` in the GitHub
 * repository jxtngx/lambda-cloud-typescript) and Lambda's rate-limit note (docs "Cloud API": one request per second, one
 * launch per 10 s; the newer reference says one launch per 12 s, five a minute). Operations used:
 * - `GET /api/v1/instance-types` (listInstanceTypes): types, prices in cents per hour, regions with capacity;
 * - `POST /api/v1/instance-operations/launch` (launchInstance), paced to one at a time, `launchIntervalMs` apart;
 * - `GET /api/v1/instances/{id}` (getInstance), `GET /api/v1/instances` (listInstances);
 * - `POST /api/v1/instance-operations/terminate` (terminateInstance): Lambda has no stop, only terminate;
 * - `GET /api/v1/ssh-keys` (listSSHKeys), only when no key name is configured: a launch needs exactly one.
 * Lambda has no logs API, so this adapter has no `logs()`.
 */
import type { Offer } from "../../scheduler/offers";
import { CloudHttp, CloudHttpError } from "../http";
import {
  type LaunchPort,
  type OfferQuery,
  type PodAddress,
  type PodHandle,
  type PodLaunch,
  type PodRef,
  type PodStatus,
  type Provider,
  ProviderUnavailableError,
  ProvisionError,
  RUNTIME_PORT_NAME,
} from "../seam";
import { instanceName, parseInstanceName } from "./instance-name";
import type { LambdaInstance, LambdaInstanceTypesItem, LambdaLaunchRequest, LambdaSshKey } from "./lambda-api";
import { LAMBDA_PROVIDER_ID, offersFromInstanceTypes, parseInstanceType, parseOfferId } from "./lambda-offers";
import { LaunchPacer } from "./launch-pacer";
import { DEFAULT_LAMBDA_API_URL, defaultLambdaGpuTypes, type LambdaOptions } from "./options";
import { unsafeEnvKey, userData } from "./user-data";

export { lambdaOptionsFromEnv } from "./options";

export class LambdaProvider implements Provider {
  readonly id = LAMBDA_PROVIDER_ID;
  private readonly http: CloudHttp;
  private readonly namePrefix: string;
  private readonly gpuTypes: Record<string, string[]>;
  private readonly pacer: LaunchPacer;
  private readonly now: () => number;
  private sshKeyName: string | undefined;

  constructor(options: LambdaOptions) {
    const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms));
    this.http = new CloudHttp({
      baseUrl: options.baseUrl ?? DEFAULT_LAMBDA_API_URL,
      headers: { authorization: `Bearer ${options.apiKey}` },
      sleep,
      ...options.http,
    });
    this.namePrefix = options.namePrefix ?? "qdz-";
    this.gpuTypes = options.gpuTypes ?? defaultLambdaGpuTypes;
    this.now = options.now ?? Date.now;
    this.pacer = new LaunchPacer(options.launchIntervalMs ?? 12_000, this.now, sleep);
    this.sshKeyName = options.sshKeyName;
  }

  async offers(query: OfferQuery): Promise<Offer[]> {
    const started = performance.now();
    const answer = await this.read(() => this.http.request<{ data: Record<string, LambdaInstanceTypesItem> }>("GET", "/api/v1/instance-types"));
    const platformTypeOf = (model: string) => Object.entries(this.gpuTypes).find(([, models]) => models.includes(model))?.[0];
    return offersFromInstanceTypes(answer.data ?? {}, query, platformTypeOf, Math.round(performance.now() - started));
  }

  async provision(launch: PodLaunch, offer: Offer): Promise<PodHandle> {
    const target = parseOfferId(offer.id);
    if (!target) throw new ProvisionError(`${offer.id} is not a Lambda offer`, false);
    // The whole machine is billed: a pod must use all of its GPUs (offers only list such types).
    if (parseInstanceType(target.instanceType)?.gpus !== launch.gpuCount) {
      throw new ProvisionError(`${target.instanceType} does not have exactly ${launch.gpuCount} GPU(s)`, true);
    }
    const unsafe = unsafeEnvKey(launch);
    if (unsafe) throw new ProvisionError(`environment variable ${unsafe} cannot be passed to a Lambda instance (line break or "=")`, false);
    const sshKey = await this.accountSshKey();
    const body: LambdaLaunchRequest = {
      region_name: target.region,
      instance_type_name: target.instanceType,
      ssh_key_names: [sshKey],
      name: instanceName(this.namePrefix, launch.podId, new Date(this.now()), launch.ports),
      user_data: userData(launch),
    };
    let ids: string[];
    try {
      const answer = await this.pacer.run(() =>
        this.http.request<{ data: { instance_ids: string[] } }>("POST", "/api/v1/instance-operations/launch", { body }),
      );
      ids = answer.data?.instance_ids ?? [];
    } catch (error) {
      throw provisionError(error);
    }
    if (!ids[0]) throw new ProvisionError("Lambda accepted the launch but named no instance", true);
    // The IP comes after boot: status reports the address then.
    return { podId: launch.podId, providerId: this.id, externalId: ids[0], region: target.region, address: null };
  }

  async status(ref: PodRef): Promise<PodStatus> {
    const instance = await this.instanceOrNull(ref.externalId);
    if (!instance) return { state: "gone" };
    const ports = parseInstanceName(this.namePrefix, instance.name)?.ports ?? [];
    switch (instance.status) {
      case "booting":
        return { state: "starting", address: instanceAddress(instance.ip, ports) };
      case "active":
        return { state: "running", address: instanceAddress(instance.ip, ports) };
      case "unhealthy":
        return { state: "exited", reason: "Lambda reports the instance unhealthy" };
      case "preempted":
        // Lambda gives no time for it: the reclaim is dated when it is first seen.
        return { state: "reclaimed", at: new Date(this.now()), reason: "Lambda preempted the instance" };
      default:
        return { state: "gone" };
    }
  }

  /** Terminates the instance; one Lambda no longer has (404) is already released. */
  async stop(ref: PodRef): Promise<void> {
    try {
      await this.http.request("POST", "/api/v1/instance-operations/terminate", { body: { instance_ids: [ref.externalId] } });
    } catch (error) {
      if (error instanceof CloudHttpError && error.status === 404) return;
      throw new ProviderUnavailableError(this.id, describe(error));
    }
  }

  async pods(): Promise<{ podId: string; externalId: string; createdAt: Date }[]> {
    const answer = await this.read(() => this.http.request<{ data: LambdaInstance[] }>("GET", "/api/v1/instances"));
    const pods: { podId: string; externalId: string; createdAt: Date }[] = [];
    for (const instance of answer.data ?? []) {
      const named = parseInstanceName(this.namePrefix, instance.name);
      if (named && instance.status !== "terminated") pods.push({ podId: named.podId, externalId: instance.id, createdAt: named.createdAt });
    }
    return pods;
  }

  /** The configured key name, else the account's first key (read once). */
  private async accountSshKey(): Promise<string> {
    if (this.sshKeyName) return this.sshKeyName;
    let keys: LambdaSshKey[];
    try {
      keys = (await this.http.request<{ data: LambdaSshKey[] }>("GET", "/api/v1/ssh-keys")).data ?? [];
    } catch (error) {
      throw provisionError(error);
    }
    if (!keys[0]) throw new ProvisionError("the Lambda account has no SSH key, and a launch needs one", false);
    this.sshKeyName = keys[0].name;
    return keys[0].name;
  }

  private async instanceOrNull(id: string): Promise<LambdaInstance | null> {
    try {
      return (await this.http.request<{ data: LambdaInstance }>("GET", `/api/v1/instances/${encodeURIComponent(id)}`)).data;
    } catch (error) {
      if (error instanceof CloudHttpError && error.status === 404) return null;
      throw new ProviderUnavailableError(this.id, describe(error));
    }
  }

  private async read<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new ProviderUnavailableError(this.id, describe(error));
    }
  }
}

/** The instance's IP with the ports the container publishes on it as is; null until Lambda reports an IP. */
function instanceAddress(ip: string | undefined, ports: LaunchPort[]): PodAddress | null {
  if (!ip) return null;
  const urls = ports.map((p) => ({ name: p.name, port: p.port, url: `${p.protocol === "tcp" ? "tcp" : "http"}://${ip}:${p.port}` }));
  const runtime = ports.find((p) => p.name === RUNTIME_PORT_NAME);
  return { runtimeUrl: runtime ? `http://${ip}:${runtime.port}` : null, ports: urls };
}

/**
 * Lambda's refusal as a provision error. Lambda's stable `code` (`instance-operations/launch/insufficient-capacity`,
 * `global/quota-exceeded`) is not kept by the shared client, which keeps only `message`, so the documented default
 * messages are matched ("Not enough capacity to fulfill launch request.", "Quota exceeded."). Both leave other
 * providers' offers open, hence retryable, like 429, 5xx and network failures; invalid parameters, a missing key or
 * type (404) and a bad or inactive account (401/403) fail the same way on any offer.
 */
function provisionError(error: unknown): ProvisionError {
  if (error instanceof ProvisionError) return error;
  if (!(error instanceof CloudHttpError)) return new ProvisionError(`Lambda: ${describe(error)}`, true);
  return new ProvisionError(`Lambda: ${error.message}`, error.transient || /capacity|quota exceeded/i.test(error.apiMessage));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
