/**
 * A local server speaking the part of the Lambda Cloud API the adapter uses, with the shapes of its OpenAPI document
 * (1.6.0): `{ data }` answers, `{ error: { code, message, suggestion } }` errors with Lambda's codes and default
 * messages, bearer (or basic) auth, `InstanceLaunchRequest` validated (region, type and exactly one existing SSH key
 * required, name at most 64 characters, user_data at most 1 MB), and Lambda's launch limit enforced on the test's clock:
 * a second launch within `launchIntervalMs` is answered 429. Faults are programmed by the test.
 */
import type { LambdaInstance, LambdaInstanceStatus, LambdaInstanceTypesItem, LambdaSshKey } from "../../../src/providers/lambda/lambda-api";

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  /** On the test's clock. */
  at: number;
}

export class FakeLambda {
  readonly requests: RecordedRequest[] = [];
  readonly instances = new Map<string, LambdaInstance>();
  instanceTypes: Record<string, LambdaInstanceTypesItem> = {};
  sshKeys: LambdaSshKey[] = [{ id: "k1", name: "platform-key", public_key: "ssh-ed25519 AAAA platform" }];
  /** Lambda's limit on launches, checked on `now`. */
  launchIntervalMs = 10_000;
  /** GETs of an instance before it is active, and before it has an IP. */
  activeAfterGets = 2;
  ipAfterGets = 2;
  /** Launches answered 429 because they came too soon. */
  tooSoonLaunches = 0;
  private rateLimited = { count: 0, retryAfterSeconds: 1 };
  private failLaunch: number | null = null;
  private lastLaunchAt = Number.NEGATIVE_INFINITY;
  private readonly gets = new Map<string, number>();
  /** Every answer waits this long first: the cloud's distance, which offers report as their latency. */
  answerDelayMs = 0;
  private server: ReturnType<typeof Bun.serve> | null = null;
  private sequence = 0;

  constructor(
    readonly now: () => number,
    readonly apiKey = "lambda-test-key",
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.server!.port}`;
  }

  start(): this {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        if (this.answerDelayMs > 0) await Bun.sleep(this.answerDelayMs);
        return this.handle(request);
      },
    });
    return this;
  }

  stop(): void {
    this.server?.stop(true);
  }

  rateLimit(count: number, retryAfterSeconds: number): void {
    this.rateLimited = { count, retryAfterSeconds };
  }

  failNextLaunch(status: number): void {
    this.failLaunch = status;
  }

  setStatus(id: string, status: LambdaInstanceStatus): void {
    this.instances.get(id)!.status = status;
  }

  /** An instance made outside the adapter. */
  addInstance(fields: Partial<LambdaInstance>): LambdaInstance {
    const instance = this.newInstance("us-east-1", Object.values(this.instanceTypes)[0]!.instance_type.name, fields.name);
    Object.assign(instance, fields);
    this.instances.set(instance.id, instance);
    return instance;
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = await request.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return error(400, "global/invalid-parameters", "Invalid request data.");
    }
    this.requests.push({ method: request.method, path: url.pathname, body, at: this.now() });
    const auth = request.headers.get("authorization") ?? "";
    const basic = `Basic ${btoa(`${this.apiKey}:`)}`;
    if (auth !== `Bearer ${this.apiKey}` && auth !== basic) {
      return error(401, "global/invalid-api-key", "API key was invalid, expired, or deleted.", "Check your API key or create a new one, then try again.");
    }
    if (this.rateLimited.count > 0) {
      this.rateLimited.count--;
      return error(429, "global/too-many-requests", "Too many requests.", undefined, { "retry-after": String(this.rateLimited.retryAfterSeconds) });
    }
    const instancePath = /^\/api\/v1\/instances\/([^/]+)$/.exec(url.pathname);
    if (request.method === "GET" && url.pathname === "/api/v1/instance-types") return data(this.instanceTypes);
    if (request.method === "GET" && url.pathname === "/api/v1/ssh-keys") return data(this.sshKeys);
    if (request.method === "GET" && url.pathname === "/api/v1/instances") return data([...this.instances.values()]);
    if (request.method === "GET" && instancePath) return this.getInstance(decodeURIComponent(instancePath[1]!));
    if (request.method === "POST" && url.pathname === "/api/v1/instance-operations/launch") return this.launch(body);
    if (request.method === "POST" && url.pathname === "/api/v1/instance-operations/terminate") return this.terminate(body);
    return error(404, "global/object-does-not-exist", "Not found.");
  }

  private launch(body: unknown): Response {
    const now = this.now();
    if (now - this.lastLaunchAt < this.launchIntervalMs) {
      this.tooSoonLaunches++;
      return error(429, "global/too-many-requests", "Launches are limited to one every 10 seconds.");
    }
    this.lastLaunchAt = now;
    const b = (body ?? {}) as Record<string, unknown>;
    const keys = b.ssh_key_names;
    if (typeof b.region_name !== "string" || typeof b.instance_type_name !== "string" || !Array.isArray(keys)) {
      return error(400, "global/invalid-parameters", "Invalid request data.", "region_name, instance_type_name and ssh_key_names are required.");
    }
    if (keys.length !== 1) return error(400, "global/invalid-parameters", "Invalid request data.", "Exactly one SSH key must be specified.");
    if (b.name !== undefined && (typeof b.name !== "string" || b.name.length > 64)) return error(400, "global/invalid-parameters", "Invalid request data.");
    if (b.user_data !== undefined && (typeof b.user_data !== "string" || b.user_data.length > 1024 * 1024)) {
      return error(400, "global/invalid-parameters", "Invalid request data.");
    }
    if (!this.sshKeys.some((k) => k.name === keys[0]))
      return error(404, "global/object-does-not-exist", `SSH key ${keys[0]} was not found.`, "Check the name.");
    const type = this.instanceTypes[b.instance_type_name];
    if (!type) return error(404, "global/object-does-not-exist", `Instance type ${b.instance_type_name} was not found.`, "Check the name.");
    if (this.failLaunch !== null) {
      const status = this.failLaunch;
      this.failLaunch = null;
      return error(status, "global/unknown", "Internal error.");
    }
    if (!type.regions_with_capacity_available.some((r) => r.name === b.region_name)) {
      return error(400, "instance-operations/launch/insufficient-capacity", "Not enough capacity to fulfill launch request.");
    }
    const instance = this.newInstance(b.region_name, b.instance_type_name, b.name as string | undefined);
    (instance as LambdaInstance & { user_data?: string }).user_data = b.user_data as string | undefined;
    this.instances.set(instance.id, instance);
    return data({ instance_ids: [instance.id] });
  }

  private getInstance(id: string): Response {
    const instance = this.instances.get(id);
    if (!instance) return error(404, "global/object-does-not-exist", "Specified instance does not exist.");
    const gets = (this.gets.get(id) ?? 0) + 1;
    this.gets.set(id, gets);
    if (instance.status === "booting" && gets >= this.activeAfterGets) instance.status = "active";
    if (!instance.ip && gets >= this.ipAfterGets && (instance.status === "booting" || instance.status === "active")) instance.ip = "198.51.100.2";
    if (instance.status === "terminating") instance.status = "terminated";
    const { user_data: _writeOnly, ...shown } = instance as LambdaInstance & { user_data?: string };
    return data(shown);
  }

  private terminate(body: unknown): Response {
    const ids = (body as { instance_ids?: unknown })?.instance_ids;
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) return error(400, "global/invalid-parameters", "Invalid request data.");
    const found = ids.map((id) => this.instances.get(id));
    if (found.some((i) => !i || i.status === "terminated")) return error(404, "global/object-does-not-exist", "Specified instance does not exist.");
    for (const instance of found) instance!.status = "terminating";
    return data({ terminated_instances: found });
  }

  private newInstance(region: string, typeName: string, name: string | undefined): LambdaInstance {
    const type = this.instanceTypes[typeName]!.instance_type;
    return {
      id: `lam${(++this.sequence).toString().padStart(29, "0")}`,
      ...(name !== undefined ? { name } : {}),
      status: "booting",
      ssh_key_names: ["platform-key"],
      region: { name: region, description: region },
      instance_type: type,
    };
  }
}

function data(payload: unknown): Response {
  return Response.json({ data: payload });
}

function error(status: number, code: string, message: string, suggestion?: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message, ...(suggestion ? { suggestion } : {}) } }, { status, headers });
}
