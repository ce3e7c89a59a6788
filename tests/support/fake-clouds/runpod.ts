/**
 * A local server speaking the part of RunPod's REST API 2.0 the adapter uses, with the shapes of the published reference
 * (`api-reference-v2/openapi.json` in runpod/docs): bearer auth, RFC 9457 problem bodies, `CreatePodRequest` validated
 * as the schema says (name and image required, exactly one of gpu or cpu, no unknown properties: 422 for schema
 * failures, 400 for the handler's rules), `Retry-After` on 429. Faults are programmed by the test.
 */
import type { RunPodAvailability, RunPodCloud, RunPodCreatePod, RunPodGpuType, RunPodPod, RunPodPodStatus } from "../../../src/providers/runpod/runpod-api";

export interface FakeRunPodGpu extends Omit<RunPodGpuType, "availability" | "dataCenters"> {
  /** Per cloud, the data centers and their level (what `include=AVAILABILITY` reports). */
  stock: Record<RunPodCloud, { id: string; availability: RunPodAvailability }[]>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

const createPodProperties = new Set([
  "name",
  "image",
  "args",
  "disk",
  "ports",
  "env",
  "registry",
  "mounts",
  "gpu",
  "cpu",
  "cloud",
  "dataCenterIds",
  "globalNetworking",
]);

export class FakeRunPod {
  readonly requests: RecordedRequest[] = [];
  readonly pods = new Map<string, RunPodPod>();
  gpus: FakeRunPodGpu[] = [];
  /** The next this-many requests answer 429 with this Retry-After. */
  private rateLimited = { count: 0, retryAfterSeconds: 1 };
  /** The next createPod answers this status. */
  private failCreate: number | null = null;
  /** createPod answers "no instances available" while set. */
  noCapacity = false;
  /** GETs of a pod before it moves on from PROVISIONING, then from STARTING. */
  startAfterGets = 1;
  runAfterGets = 2;
  private readonly gets = new Map<string, number>();
  /** Every answer waits this long first: the cloud's distance, which offers report as their latency. */
  answerDelayMs = 0;
  private server: ReturnType<typeof Bun.serve> | null = null;
  private sequence = 0;

  constructor(readonly apiKey = "rp-test-key") {}

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

  failNextCreate(status: number): void {
    this.failCreate = status;
  }

  /** A pod made outside the adapter (another process, a crash between create and record). */
  addPod(fields: Partial<RunPodPod> & { name: string }): RunPodPod {
    const pod = this.newPod({ name: fields.name, image: "img", gpu: { id: "NVIDIA L4", count: 1 } });
    Object.assign(pod, fields);
    this.pods.set(pod.id, pod);
    return pod;
  }

  setStatus(id: string, status: RunPodPodStatus): void {
    const pod = this.pods.get(id)!;
    pod.status = status;
    if (status !== "RUNNING") pod.runtime = null;
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = await request.text();
    const body = text ? safeJson(text) : undefined;
    this.requests.push({ method: request.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body });
    if (request.headers.get("authorization") !== `Bearer ${this.apiKey}`) return problem(401, "Unauthorized", "invalid bearer token");
    if (this.rateLimited.count > 0) {
      this.rateLimited.count--;
      return problem(429, "Too Many Requests", "rate limit exceeded for the minute window", { "retry-after": String(this.rateLimited.retryAfterSeconds) });
    }
    const podPath = /^\/v2\/pods\/([^/]+)$/.exec(url.pathname);
    if (request.method === "GET" && url.pathname === "/v2/catalog/gpus") return this.catalog(url.searchParams);
    if (request.method === "GET" && url.pathname === "/v2/pods") return json(200, { pods: [...this.pods.values()] });
    if (request.method === "POST" && url.pathname === "/v2/pods") return this.create(body);
    if (request.method === "GET" && podPath) return this.getPod(decodeURIComponent(podPath[1]!));
    if (request.method === "DELETE" && podPath) return this.deletePod(decodeURIComponent(podPath[1]!));
    return problem(404, "Not Found", "resource not found");
  }

  private catalog(params: URLSearchParams): Response {
    const withAvailability = params.get("include") === "AVAILABILITY";
    const cloud = (params.get("cloud") ?? "SECURE") as RunPodCloud;
    if (!withAvailability && (params.has("cloud") || params.has("count")))
      return problem(400, "Bad Request", "cloud and count are valid only with include=AVAILABILITY");
    const gpus = this.gpus.map(({ stock, ...gpu }): RunPodGpuType => {
      if (!withAvailability) return gpu;
      const dataCenters = stock[cloud].map((dc) => ({ id: dc.id, name: dc.id, availability: dc.availability }));
      const best = dataCenters.some((dc) => dc.availability !== "NONE") ? "HIGH" : "NONE";
      return { ...gpu, availability: best, dataCenters };
    });
    return json(200, { gpus });
  }

  private create(body: unknown): Response {
    const errors = validateCreatePod(body);
    if (errors.length > 0) return problem(422, "Unprocessable Entity", "Request validation failed.", {}, errors);
    const request = body as RunPodCreatePod & { cpu?: unknown };
    if (Boolean(request.gpu) === Boolean(request.cpu)) return problem(400, "Bad Request", "exactly one of gpu or cpu must be set");
    if (this.failCreate !== null) {
      const status = this.failCreate;
      this.failCreate = null;
      return problem(status, "Internal Server Error", "upstream failure");
    }
    if (this.noCapacity) {
      return problem(400, "Bad Request", "There are no longer any instances available with the requested specifications. Please refresh and try again.");
    }
    const pod = this.newPod(request);
    this.pods.set(pod.id, pod);
    return json(201, pod);
  }

  private getPod(id: string): Response {
    const pod = this.pods.get(id);
    if (!pod) return problem(404, "Not Found", "pod not found");
    const gets = (this.gets.get(id) ?? 0) + 1;
    this.gets.set(id, gets);
    if (pod.status === "PROVISIONING" && gets >= this.startAfterGets) pod.status = "STARTING";
    if (pod.status === "STARTING" && gets >= this.runAfterGets) {
      pod.status = "RUNNING";
      pod.startedAt = new Date().toISOString();
      // A running pod reports its live port mappings; a tcp port gets a public IP and port.
      pod.runtime = {
        uptime: 1,
        ports: pod.ports.map((entry, i) => {
          const [port, type] = entry.split("/");
          return type === "tcp"
            ? { private: Number(port), public: 40000 + i, type, ip: "203.0.113.7" }
            : { private: Number(port), public: null, type, ip: null };
        }),
      };
    }
    return json(200, pod);
  }

  /** deletePod: 204, and the pod is gone from getPod and listPods (the reference: "no longer appears in listPods"). */
  private deletePod(id: string): Response {
    if (!this.pods.delete(id)) return problem(404, "Not Found", "pod not found");
    return new Response(null, { status: 204 });
  }

  private newPod(request: RunPodCreatePod): RunPodPod {
    return {
      id: `rp${(++this.sequence).toString().padStart(8, "0")}`,
      name: request.name,
      status: "PROVISIONING",
      image: request.image,
      args: request.args ?? "",
      ports: request.ports ?? [],
      env: request.env ?? {},
      gpu: { id: request.gpu.id, count: request.gpu.count ?? 1 },
      cloud: request.cloud ?? "SECURE",
      dataCenterId: request.dataCenterIds?.[0] ?? "US-KS-2",
      cost: 0.5,
      runtime: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
    };
  }
}

/** `CreatePodRequest` as its schema reads: required name (minLength 1) and image, typed fields, no other property. */
function validateCreatePod(body: unknown): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return ["$: expected object"];
  const b = body as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(b)) if (!createPodProperties.has(key)) errors.push(`$: additional properties '${key}' not allowed`);
  if (typeof b.name !== "string" || b.name.length < 1) errors.push("$.name: required string, minLength 1");
  if (typeof b.image !== "string") errors.push("$.image: required string");
  if (b.args !== undefined && typeof b.args !== "string") errors.push("$.args: expected string");
  if (b.disk !== undefined && !(Number.isInteger(b.disk) && (b.disk as number) >= 1)) errors.push("$.disk: integer >= 1");
  if (b.ports !== undefined && !(Array.isArray(b.ports) && b.ports.every((p) => typeof p === "string" && /^\d+\/(http|tcp|udp)$/.test(p)))) {
    errors.push("$.ports: array of port/protocol strings");
  }
  if (b.env !== undefined && !(typeof b.env === "object" && b.env !== null && Object.values(b.env).every((v) => typeof v === "string"))) {
    errors.push("$.env: object of strings");
  }
  if (b.cloud !== undefined && b.cloud !== "SECURE" && b.cloud !== "COMMUNITY") errors.push("$.cloud: SECURE or COMMUNITY");
  if (b.dataCenterIds !== undefined && !(Array.isArray(b.dataCenterIds) && b.dataCenterIds.every((d) => typeof d === "string"))) {
    errors.push("$.dataCenterIds: array of strings");
  }
  if (b.gpu !== undefined) {
    const gpu = b.gpu as Record<string, unknown>;
    if (typeof gpu !== "object" || gpu === null || typeof gpu.id !== "string") errors.push("$.gpu.id: required string");
    else if (gpu.count !== undefined && !(Number.isInteger(gpu.count) && (gpu.count as number) >= 1)) errors.push("$.gpu.count: integer >= 1");
    else for (const key of Object.keys(gpu)) if (key !== "id" && key !== "count") errors.push(`$.gpu: additional properties '${key}' not allowed`);
  }
  return errors;
}

function json(status: number, body: unknown): Response {
  return Response.json(body, { status });
}

function problem(status: number, title: string, detail: string, headers: Record<string, string> = {}, errors?: string[]): Response {
  return new Response(JSON.stringify({ title, status, detail, ...(errors ? { errors } : {}) }), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
