/**
 * A local server speaking the part of the Kubernetes core/v1 API the adapter uses, with the real API's shapes:
 * bearer-token auth, `Status` objects for errors (401 Unauthorized, 404 NotFound, 409 AlreadyExists, 422 Invalid,
 * 403 Forbidden for an exceeded quota), list objects with a resourceVersion, label and field selectors, and watches
 * that stream `{type, object}` JSON lines from a resourceVersion (410 Expired once it is older than the history
 * kept). The test plays the kubelet and the scheduler: it sets pods' phases, conditions and container states, and
 * the server emits the watch events.
 */

type Json = Record<string, any>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Json | null;
}

interface Watcher {
  namespace: string | null;
  labelSelector: string;
  send: (line: string) => void;
  close: () => void;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export class FakeKubernetes {
  readonly requests: RecordedRequest[] = [];
  readonly nodes: Json[] = [];
  /** Keyed `namespace/name`. */
  readonly pods = new Map<string, Json>();
  readonly services = new Map<string, Json>();
  readonly secrets = new Map<string, Json>();
  /** Container logs, keyed `namespace/pod/container`. */
  readonly logs = new Map<string, string>();
  /** GPUs the namespace's pods may request in all (a ResourceQuota on `requests.nvidia.com/gpu`); null: no quota. */
  gpuQuota: number | null = null;
  private resourceVersion = 1000;
  /** Pod events kept for watches that resume from a resourceVersion; older ones answer 410. */
  private history: { rv: number; type: string; pod: Json }[] = [];
  private oldestKept = 1000;
  private readonly watchers = new Set<Watcher>();
  private failures: { method: string; pathPart: string; status: number; reason: string; message: string }[] = [];
  private server: ReturnType<typeof Bun.serve> | null = null;
  private uid = 0;

  constructor(readonly token = "fake-k8s-token") {}

  get url(): string {
    return `http://127.0.0.1:${this.server!.port}`;
  }

  start(): this {
    this.server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch: (request) => this.handle(request) });
    return this;
  }

  stop(): void {
    for (const watcher of this.watchers) watcher.close();
    this.server?.stop(true);
  }

  /** A kubeconfig for the real client: this server, a bearer-token user. */
  kubeconfig(namespace = "default"): string {
    return JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      // Plain http: the client sends a token over it only with TLS verification off (it refuses otherwise).
      clusters: [{ name: "fake", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "platform", user: { token: this.token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "platform", namespace } }],
      "current-context": "fake",
    });
  }

  /** A GPU node as GPU feature discovery and the device plugin label it. */
  addNode(node: {
    name: string;
    product?: string;
    gpus?: number;
    memoryMib?: number;
    region?: string;
    labels?: Record<string, string>;
    ready?: boolean;
    unschedulable?: boolean;
    taints?: Json[];
  }): Json {
    const labels: Record<string, string> = { "kubernetes.io/hostname": node.name, ...node.labels };
    if (node.product) labels["nvidia.com/gpu.product"] = node.product;
    if (node.memoryMib) labels["nvidia.com/gpu.memory"] = String(node.memoryMib);
    if (node.region) labels["topology.kubernetes.io/region"] = node.region;
    const json = {
      kind: "Node",
      apiVersion: "v1",
      metadata: this.meta({ name: node.name, labels }),
      spec: { ...(node.unschedulable ? { unschedulable: true } : {}), ...(node.taints ? { taints: node.taints } : {}) },
      status: {
        capacity: { cpu: "32", memory: "131072Mi", pods: "110", ...(node.gpus !== undefined ? { "nvidia.com/gpu": String(node.gpus) } : {}) },
        allocatable: { cpu: "31", memory: "128000Mi", pods: "110", ...(node.gpus !== undefined ? { "nvidia.com/gpu": String(node.gpus) } : {}) },
        conditions: [{ type: "Ready", status: node.ready === false ? "False" : "True", reason: "KubeletReady", lastTransitionTime: iso(new Date()) }],
      },
    };
    this.nodes.push(json);
    return json;
  }

  /** A pod someone else runs (another namespace, another team) bound to a node, holding GPUs. */
  addForeignPod(namespace: string, name: string, nodeName: string, gpus: number, phase = "Running"): Json {
    const pod = {
      kind: "Pod",
      apiVersion: "v1",
      metadata: this.meta({ name, namespace, labels: { app: "other" } }),
      spec: {
        nodeName,
        containers: [
          { name: "main", image: "busybox", resources: { limits: { "nvidia.com/gpu": String(gpus) }, requests: { "nvidia.com/gpu": String(gpus) } } },
        ],
      },
      status: { phase },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    this.emit("ADDED", pod);
    return pod;
  }

  pod(namespace: string, name: string): Json | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  /** What the scheduler and the kubelet would do to a pod: merged into its status, with a MODIFIED event. */
  updatePod(namespace: string, name: string, change: { nodeName?: string; status?: Json }): Json {
    const pod = this.pods.get(`${namespace}/${name}`)!;
    if (change.nodeName) pod.spec.nodeName = change.nodeName;
    if (change.status) pod.status = { ...pod.status, ...change.status };
    pod.metadata.resourceVersion = String(++this.resourceVersion);
    this.emit("MODIFIED", pod);
    return pod;
  }

  /** The next request whose method matches and whose path and query contain `pathPart` answers this Status. */
  failNext(method: string, pathPart: string, status: number, reason: string, message: string): void {
    this.failures.push({ method, pathPart, status, reason, message });
  }

  /** Ends every open watch, as an API server restart would. */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.close();
  }

  /** Compacts history past every resourceVersion handed out so far (other objects changed meanwhile): resuming a watch answers 410 Expired. */
  compactHistory(): void {
    this.history = [];
    this.oldestKept = ++this.resourceVersion;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "DELETE" ? "" : await request.text();
    const body = text ? (JSON.parse(text) as Json) : null;
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: request.method, path: url.pathname, query, body });
    if (request.headers.get("authorization") !== `Bearer ${this.token}`) return status(401, "Unauthorized", "Unauthorized");
    const failure = this.failures.findIndex((f) => f.method === request.method && `${url.pathname}${url.search}`.includes(f.pathPart));
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      return status(f!.status, f!.reason, f!.message);
    }

    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] !== "api" || parts[1] !== "v1") return status(404, "NotFound", "the server could not find the requested resource");
    const rest = parts.slice(2);
    if (rest.length === 1 && rest[0] === "nodes" && request.method === "GET")
      return list(
        "NodeList",
        this.nodes.filter((n) => matchesLabels(n, query.labelSelector ?? "")),
        this.resourceVersion,
      );
    if (rest.length === 1 && rest[0] === "pods" && request.method === "GET") {
      if (query.watch === "true") return this.watch(null, query);
      return list("PodList", this.select(null, query), this.resourceVersion);
    }
    if (rest[0] !== "namespaces" || !rest[1]) return status(404, "NotFound", "the server could not find the requested resource");
    const namespace = rest[1];
    const [kind, name, sub] = rest.slice(2);
    if (kind === "pods") return this.handlePods(request.method, namespace, name, sub, query, body);
    if (kind === "services") return this.handleSimple(this.services, "Service", "services", request.method, namespace, name, body);
    if (kind === "secrets") return this.handleSimple(this.secrets, "Secret", "secrets", request.method, namespace, name, body);
    return status(404, "NotFound", "the server could not find the requested resource");
  }

  private handlePods(
    method: string,
    namespace: string,
    name: string | undefined,
    sub: string | undefined,
    query: Record<string, string>,
    body: Json | null,
  ): Response {
    if (!name && method === "GET") {
      if (query.watch === "true") return this.watch(namespace, query);
      return list("PodList", this.select(namespace, query), this.resourceVersion);
    }
    if (!name && method === "POST") return this.createPod(namespace, body!);
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) return status(404, "NotFound", `pods "${name}" not found`, { name, kind: "pods" });
    if (sub === "log" && method === "GET") {
      const container = query.container ?? pod.spec.containers[0].name;
      if (!pod.spec.containers.some((c: Json) => c.name === container)) {
        return status(400, "BadRequest", `container ${container} is not valid for pod ${name}`);
      }
      const lines = (this.logs.get(`${key}/${container}`) ?? "").split("\n");
      if (lines.at(-1) === "") lines.pop();
      const tail = query.tailLines ? lines.slice(-Number(query.tailLines)) : lines;
      return new Response(tail.map((l) => `${l}\n`).join(""), { headers: { "content-type": "text/plain" } });
    }
    if (method === "GET") return json(pod);
    if (method === "DELETE") {
      this.pods.delete(key);
      pod.metadata.resourceVersion = String(++this.resourceVersion);
      this.emit("DELETED", pod);
      // The garbage collector: what the pod owned goes with it.
      for (const store of [this.services, this.secrets]) {
        for (const [k, v] of store) if (v.metadata.ownerReferences?.some((o: Json) => o.uid === pod.metadata.uid)) store.delete(k);
      }
      return json(pod);
    }
    return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }

  private createPod(namespace: string, body: Json): Response {
    const name = body.metadata?.name;
    const causes = [...nameCauses(name, DNS_SUBDOMAIN, 253), ...labelCauses(body.metadata?.labels)];
    const containers: Json[] = body.spec?.containers ?? [];
    if (containers.length === 0) causes.push({ field: "spec.containers", message: "Required value" });
    containers.forEach((c, i) => {
      if (!DNS_LABEL.test(c.name ?? "")) causes.push({ field: `spec.containers[${i}].name`, message: `Invalid value: "${c.name}"` });
      if (!c.image) causes.push({ field: `spec.containers[${i}].image`, message: "Required value" });
      for (const e of c.env ?? [])
        if (e.value !== undefined && e.valueFrom) causes.push({ field: `spec.containers[${i}].env`, message: "may not have both value and valueFrom" });
    });
    if (!["Always", "OnFailure", "Never"].includes(body.spec?.restartPolicy ?? "Always"))
      causes.push({ field: "spec.restartPolicy", message: "Unsupported value" });
    if (causes.length > 0) return invalid("Pod", name, causes);
    if (this.pods.has(`${namespace}/${name}`)) return status(409, "AlreadyExists", `pods "${name}" already exists`, { name, kind: "pods" });
    const gpus = (pod: Json) => (pod.spec.containers as Json[]).reduce((s, c) => s + Number(c.resources?.limits?.["nvidia.com/gpu"] ?? 0), 0);
    if (this.gpuQuota !== null) {
      const used = [...this.pods.values()].filter((p) => p.metadata.namespace === namespace).reduce((s, p) => s + gpus(p), 0);
      if (used + gpus(body) > this.gpuQuota) {
        return status(
          403,
          "Forbidden",
          `pods "${name}" is forbidden: exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=${gpus(body)}, used: requests.nvidia.com/gpu=${used}, limited: requests.nvidia.com/gpu=${this.gpuQuota}`,
          { name, kind: "pods" },
        );
      }
    }
    const pod = {
      ...body,
      kind: "Pod",
      apiVersion: "v1",
      metadata: this.meta({ ...body.metadata, namespace }),
      spec: {
        ...body.spec,
        containers: containers.map((c) =>
          c.resources?.limits && !c.resources.requests ? { ...c, resources: { ...c.resources, requests: c.resources.limits } } : c,
        ),
      },
      status: { phase: "Pending", qosClass: "BestEffort" },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    this.emit("ADDED", pod);
    return json(pod, 201);
  }

  private handleSimple(
    store: Map<string, Json>,
    kind: string,
    plural: string,
    method: string,
    namespace: string,
    name: string | undefined,
    body: Json | null,
  ): Response {
    if (!name && method === "POST") {
      const objectName = body!.metadata?.name;
      const causes = [
        ...nameCauses(objectName, kind === "Service" ? DNS_1035 : DNS_SUBDOMAIN, kind === "Service" ? 63 : 253),
        ...labelCauses(body!.metadata?.labels),
      ];
      if (kind === "Service") {
        const ports: Json[] = body!.spec?.ports ?? [];
        if (ports.length === 0) causes.push({ field: "spec.ports", message: "Required value" });
        ports.forEach((p, i) => {
          if (ports.length > 1 && !(DNS_LABEL.test(p.name ?? "") && p.name.length <= 15))
            causes.push({ field: `spec.ports[${i}].name`, message: `Invalid value: "${p.name}"` });
        });
      }
      if (causes.length > 0) return invalid(kind, objectName, causes);
      if (store.has(`${namespace}/${objectName}`))
        return status(409, "AlreadyExists", `${plural} "${objectName}" already exists`, { name: objectName, kind: plural });
      const object: Json = { ...body, kind, apiVersion: "v1", metadata: this.meta({ ...body!.metadata, namespace }) };
      if (kind === "Secret" && object.stringData) {
        object.data = Object.fromEntries(Object.entries(object.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
        delete object.stringData;
      }
      if (kind === "Service") object.spec = { ...object.spec, clusterIP: `10.96.0.${++this.uid % 250}` };
      store.set(`${namespace}/${objectName}`, object);
      return json(object, 201);
    }
    const object = store.get(`${namespace}/${name}`);
    if (!object) return status(404, "NotFound", `${plural} "${name}" not found`, { name, kind: plural });
    if (method === "GET") return json(object);
    if (method === "DELETE") {
      store.delete(`${namespace}/${name}`);
      return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, kind: plural, uid: object.metadata.uid } });
    }
    return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }

  private select(namespace: string | null, query: Record<string, string>): Json[] {
    return [...this.pods.values()].filter(
      (pod) =>
        (namespace === null || pod.metadata.namespace === namespace) &&
        matchesLabels(pod, query.labelSelector ?? "") &&
        matchesFields(pod, query.fieldSelector ?? ""),
    );
  }

  private watch(namespace: string | null, query: Record<string, string>): Response {
    const from = Number(query.resourceVersion ?? this.resourceVersion);
    let watcher: Watcher | null = null;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const encoder = new TextEncoder();
        let open = true;
        const close = () => {
          if (!open) return;
          open = false;
          this.watchers.delete(watcher!);
          clearTimeout(timer);
          try {
            controller.close();
          } catch {
            // the client went away first
          }
        };
        watcher = { namespace, labelSelector: query.labelSelector ?? "", send: (line) => open && controller.enqueue(encoder.encode(`${line}\n`)), close };
        const timer = setTimeout(close, Number(query.timeoutSeconds ?? 1800) * 1000);
        if (from < this.oldestKept) {
          watcher.send(JSON.stringify({ type: "ERROR", object: statusBody(410, "Expired", `too old resource version: ${from} (${this.oldestKept})`) }));
          close();
          return;
        }
        this.watchers.add(watcher);
        // Bun.serve sends a streamed answer's headers with its first bytes, where an API server sends them at once:
        // a bookmark (allowed at any time when asked for) or a blank line (which clients skip) stands in.
        watcher.send(
          query.allowWatchBookmarks === "true"
            ? JSON.stringify({ type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: String(this.resourceVersion) } } })
            : "",
        );
        for (const event of this.history)
          if (event.rv > from && this.wants(watcher, event.pod)) watcher.send(JSON.stringify({ type: event.type, object: event.pod }));
      },
      cancel: () => watcher?.close(),
    });
    return new Response(stream, { headers: { "content-type": "application/json", "transfer-encoding": "chunked" } });
  }

  private wants(watcher: Watcher, pod: Json): boolean {
    return (watcher.namespace === null || pod.metadata.namespace === watcher.namespace) && matchesLabels(pod, watcher.labelSelector);
  }

  private emit(type: string, pod: Json): void {
    const snapshot = structuredClone(pod);
    const rv = Number(pod.metadata.resourceVersion);
    this.history.push({ rv, type, pod: snapshot });
    for (const watcher of this.watchers) if (this.wants(watcher, snapshot)) watcher.send(JSON.stringify({ type, object: snapshot }));
  }

  private meta(meta: Json): Json {
    return { ...meta, uid: crypto.randomUUID(), resourceVersion: String(++this.resourceVersion), creationTimestamp: iso(new Date()) };
  }
}

/** Equality-based selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`): what the adapter sends. */
function matchesLabels(object: Json, selector: string): boolean {
  const labels: Record<string, string> = object.metadata.labels ?? {};
  return selector
    .split(",")
    .filter(Boolean)
    .every((term) => {
      const [key, value] = term.includes("!=") ? term.split("!=") : term.split(/==?/);
      if (term.includes("!=")) return labels[key!] !== value;
      if (term.startsWith("!")) return !(term.slice(1) in labels);
      return value === undefined ? key! in labels : labels[key!] === value;
    });
}

/** The pod fields the API server can select on that the adapter uses. */
function matchesFields(pod: Json, selector: string): boolean {
  const field = (key: string): string => {
    if (key === "spec.nodeName") return pod.spec?.nodeName ?? "";
    if (key === "status.phase") return pod.status?.phase ?? "";
    if (key === "metadata.name") return pod.metadata.name;
    if (key === "metadata.namespace") return pod.metadata.namespace;
    throw new Error(`field label not supported: ${key}`);
  };
  return selector
    .split(",")
    .filter(Boolean)
    .every((term) => {
      if (term.includes("!=")) {
        const [key, value] = term.split("!=");
        return field(key!) !== value;
      }
      const [key, value] = term.split(/==?/);
      return field(key!) === value;
    });
}

function nameCauses(name: unknown, pattern: RegExp, max: number): { field: string; message: string }[] {
  if (typeof name !== "string" || name === "") return [{ field: "metadata.name", message: "Required value: name or generateName is required" }];
  return pattern.test(name) && name.length <= max ? [] : [{ field: "metadata.name", message: `Invalid value: "${name}": must be a lowercase RFC 1123 name` }];
}

function labelCauses(labels: Record<string, string> | undefined): { field: string; message: string }[] {
  const causes: { field: string; message: string }[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (key.split("/").at(-1)!.length > 63)
      causes.push({ field: "metadata.labels", message: `Invalid value: "${key}": name part must be no more than 63 characters` });
    if (!LABEL_VALUE.test(value) || value.length > 63) {
      causes.push({
        field: "metadata.labels",
        message: `Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters`,
      });
    }
  }
  return causes;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function list(kind: string, items: Json[], resourceVersion: number): Response {
  return json({ kind, apiVersion: "v1", metadata: { resourceVersion: String(resourceVersion) }, items });
}

function json(body: unknown, code = 200): Response {
  return Response.json(body, { status: code });
}

function statusBody(code: number, reason: string, message: string, details?: Json): Json {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code };
}

function status(code: number, reason: string, message: string, details?: Json): Response {
  return json(statusBody(code, reason, message, details), code);
}

function invalid(kind: string, name: string, causes: { field: string; message: string }[]): Response {
  const message = `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`;
  return status(422, "Invalid", message, { name, kind: `${kind.toLowerCase()}s`, causes: causes.map((c) => ({ reason: "FieldValueInvalid", ...c })) });
}
