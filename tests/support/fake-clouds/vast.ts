/**
 * A local stand-in for Vast.ai's REST API: the operations the Vast adapter uses, with the request and answer shapes of
 * Vast's published reference (`api-reference/openapi.yaml` in vast-ai/docs) — required fields checked and refused with
 * a 400 as the reference describes, the bearer key checked, and faults to program (429 with Retry-After, a 500 on the
 * next rent, an ask rented away, an instance outbid, an address that arrives after some polls).
 * Written independently of the adapter's own schemas, so a mistake in one is not mirrored in the other.
 */

export interface FakeAsk {
  id: number;
  gpu_name: string;
  num_gpus: number;
  /** MB, as the REST API gives it. */
  gpu_ram: number;
  /** The host's on-demand price for the whole machine, $/hour, storage excluded. */
  dph_base: number;
  min_bid: number;
  geolocation: string;
  verification: "verified" | "unverified" | "deverified";
  datacenter: boolean;
  /** $/GB/month. */
  storage_cost?: number;
}

export interface FakeInstance {
  id: number;
  askId: number;
  label: string | null;
  image_uuid: string;
  image_args: string[];
  extra_env: [string, string][];
  body: Record<string, unknown>;
  is_bid: boolean;
  actual_status: string | null;
  intended_status: string;
  cur_state: string;
  status_msg: string | null;
  start_date: number;
  exposed: number[];
  polls: number;
}

type Json = Record<string, unknown>;

export class FakeVast {
  readonly asks = new Map<number, FakeAsk>();
  readonly instances = new Map<number, FakeInstance>();
  readonly requests: { method: string; path: string; query: URLSearchParams; body: unknown; authorization: string | null }[] = [];
  /** Polls of GET /instances/{id} before the container runs with an IP and ports. */
  addressAfterPolls = 2;
  /** How an instance that is not the account's is answered: the reference lists no 404 for it. */
  unknownInstance: "404" | "null" = "null";
  private rateLimited: { count: number; retryAfter: string | null } = { count: 0, retryAfter: null };
  private failNextRent = false;
  private nextInstanceId = 9_000_001;
  private server: ReturnType<typeof Bun.serve>;

  constructor(
    readonly apiKey: string,
    asks: FakeAsk[],
  ) {
    for (const ask of asks) this.asks.set(ask.id, ask);
    this.server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => this.handle(request) });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  stop(): void {
    this.server.stop(true);
  }

  /** The next `count` requests are refused with 429 (and `Retry-After: retryAfter` when given). */
  rateLimit(count: number, retryAfter: string | null): void {
    this.rateLimited = { count, retryAfter };
  }

  failNextRentWith500(): void {
    this.failNextRent = true;
  }

  /** Someone else rents the ask: it leaves the search and renting it answers no_such_ask. */
  rentAway(askId: number): void {
    this.asks.delete(askId);
  }

  /** A higher bid takes the machine: Vast pauses the interruptible instance, which the renter still intends running. */
  outbid(instanceId: number): void {
    const instance = this.instance(instanceId);
    if (!instance.is_bid) throw new Error("only an interruptible instance can be outbid");
    Object.assign(instance, { actual_status: "stopped", cur_state: "stopped", status_msg: "Instance paused: outbid by a higher priority rental" });
  }

  exit(instanceId: number, message: string): void {
    Object.assign(this.instance(instanceId), { actual_status: "exited", status_msg: message });
  }

  /** An instance made outside this test's provider (an orphan, or another deployment's). */
  addInstance(label: string | null, startDate: number): number {
    const id = this.nextInstanceId++;
    this.instances.set(id, {
      id,
      askId: 0,
      label,
      image_uuid: "x",
      image_args: [],
      extra_env: [],
      body: {},
      is_bid: false,
      actual_status: "running",
      intended_status: "running",
      cur_state: "running",
      status_msg: null,
      start_date: startDate,
      exposed: [],
      polls: 0,
    });
    return id;
  }

  instance(id: number): FakeInstance {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`no instance ${id}`);
    return instance;
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = await request.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return json(400, { success: false, error: "invalid_request", msg: "Invalid json body" });
      }
    }
    const authorization = request.headers.get("authorization");
    this.requests.push({ method: request.method, path: url.pathname, query: url.searchParams, body, authorization });
    if (this.rateLimited.count > 0) {
      this.rateLimited.count--;
      const headers: Record<string, string> = this.rateLimited.retryAfter ? { "retry-after": this.rateLimited.retryAfter } : {};
      return json(429, { detail: "API requests too frequent endpoint threshold=4.5" }, headers);
    }
    const authorized = authorization === `Bearer ${this.apiKey}`;
    const path = url.pathname.replace(/\/$/, "");
    const route = `${request.method} ${path}`;
    let match: RegExpExecArray | null;
    if (route === "POST /api/v0/bundles") {
      // The reference answers a bad key on searchOffers with a 404.
      if (!authorized) return json(404, { error: "auth_error", msg: "Invalid user key" });
      return this.searchOffers(body);
    }
    if (!authorized) return json(401, { success: false, error: "auth_error", msg: "Invalid user key" });
    if ((match = /^PUT \/api\/v0\/asks\/(\d+)$/.exec(route))) return this.createInstance(Number(match[1]), body);
    if ((match = /^GET \/api\/v0\/instances\/(\d+)$/.exec(route))) return this.showInstance(Number(match[1]));
    if ((match = /^DELETE \/api\/v0\/instances\/(\d+)$/.exec(route))) return this.destroyInstance(Number(match[1]));
    if (route === "GET /api/v1/instances") return this.showInstances(url.searchParams);
    return json(404, { success: false, error: "not_found", msg: `no route ${route}` });
  }

  private searchOffers(body: unknown): Response {
    if (!isObject(body)) return json(400, { error: "invalid_request", msg: "Invalid json body" });
    const operators = new Set(["eq", "neq", "gt", "lt", "gte", "lte", "in", "notin"]);
    for (const [field, filter] of Object.entries(body)) {
      if (["limit", "type", "order", "allocated_storage"].includes(field)) continue;
      if (!isObject(filter) || Object.keys(filter).some((op) => !operators.has(op)))
        return json(400, { error: "invalid_request", msg: `Invalid query: ${field}, must be dict of conditions` });
    }
    const type = body.type ?? "ondemand";
    if (!["ondemand", "bid", "reserved"].includes(String(type))) return json(400, { error: "invalid_request", msg: `invalid type ${String(type)}` });
    const storage = typeof body.allocated_storage === "number" ? body.allocated_storage : 8;
    const offers = [...this.asks.values()].map((ask) => {
      const storageTotal = ((ask.storage_cost ?? 0.15) * storage) / (30 * 24);
      const gpuHour = type === "bid" ? ask.min_bid : ask.dph_base;
      return {
        id: ask.id,
        ask_contract_id: ask.id,
        bundle_id: ask.id + 1,
        gpu_name: ask.gpu_name,
        num_gpus: ask.num_gpus,
        gpu_ram: ask.gpu_ram,
        gpu_total_ram: ask.gpu_ram * ask.num_gpus,
        dph_base: ask.dph_base,
        dph_total: gpuHour + storageTotal,
        min_bid: ask.min_bid,
        storage_total_cost: storageTotal,
        geolocation: ask.geolocation,
        verification: ask.verification,
        verified: ask.verification === "verified",
        datacenter: ask.datacenter,
        hosting_type: ask.datacenter ? 1 : 0,
        rentable: true,
        rented: false,
        is_bid: type === "bid",
        search: { gpuCostPerHour: gpuHour, diskHour: storageTotal, totalHour: gpuHour + storageTotal },
      };
    });
    const field = (offer: Json, name: string): unknown => (name === "geolocation" ? String(offer.geolocation).split(",").at(-1)?.trim() : offer[name]);
    const same = (a: unknown, b: unknown) => (typeof a === "string" && typeof b === "string" ? a.replace(/_/g, " ") === b.replace(/_/g, " ") : a === b);
    const kept = offers.filter((offer) =>
      Object.entries(body).every(([name, filter]) => {
        if (!isObject(filter) || !(name in offer || name === "geolocation")) return true;
        const value = field(offer, name);
        return Object.entries(filter).every(([op, want]) => {
          if (op === "eq") return same(value, want);
          if (op === "neq") return !same(value, want);
          if (op === "in") return Array.isArray(want) && want.some((w) => same(value, w));
          if (op === "notin") return Array.isArray(want) && !want.some((w) => same(value, w));
          const n = Number(value);
          const w = Number(want);
          return op === "gt" ? n > w : op === "gte" ? n >= w : op === "lt" ? n < w : n <= w;
        });
      }),
    );
    return json(200, { offers: kept.slice(0, typeof body.limit === "number" ? body.limit : 64) });
  }

  private createInstance(askId: number, body: unknown): Response {
    const invalid = (msg: string, error = "invalid_args") => json(400, { success: false, error, msg, ask_id: askId });
    if (!isObject(body)) return invalid("Invalid json body");
    if (typeof body.image !== "string" || !body.image) return invalid("error 400/3467: Invalid args: 'image' is required");
    if (body.env !== undefined && typeof body.env !== "string") return invalid("'env' must be a string of docker flags");
    if (body.args !== undefined && !(Array.isArray(body.args) && body.args.every((a) => typeof a === "string")))
      return invalid("'args' must be a list of strings");
    if (body.label !== undefined && typeof body.label !== "string") return invalid("'label' must be a string");
    if (body.disk !== undefined && typeof body.disk !== "number") return invalid("'disk' must be a number");
    const runtypes = ["ssh", "jupyter", "args", "ssh_proxy", "ssh_direct", "jupyter_proxy", "jupyter_direct"];
    if (body.runtype !== undefined && !runtypes.includes(String(body.runtype))) return invalid(`invalid runtype ${String(body.runtype)}`);
    if (body.price !== undefined && (typeof body.price !== "number" || body.price < 0.001 || body.price > 128))
      return invalid("Please set a bid price >= 0.001.", "invalid_price");
    if (this.failNextRent) {
      this.failNextRent = false;
      return json(500, { success: false, error: "server_error", msg: "Internal Server Error" });
    }
    const ask = this.asks.get(askId);
    if (!ask)
      return json(404, {
        success: false,
        error: "invalid_args",
        msg: `error 404/3603: no_such_ask Instance type by id ${askId} is not available.`,
        ask_id: askId,
      });
    if (typeof body.price === "number" && body.price < ask.min_bid) return invalid(`bid ${body.price} is below the minimum ${ask.min_bid}`, "invalid_price");
    this.asks.delete(askId);
    const id = this.nextInstanceId++;
    const env = parseDockerFlags(String(body.env ?? ""));
    this.instances.set(id, {
      id,
      askId,
      label: typeof body.label === "string" ? body.label : null,
      image_uuid: body.image,
      image_args: (body.args as string[] | undefined) ?? [],
      extra_env: env.vars,
      body,
      is_bid: body.price !== undefined,
      actual_status: null,
      intended_status: "running",
      cur_state: "running",
      status_msg: null,
      start_date: Date.now() / 1000,
      exposed: env.ports,
      polls: 0,
    });
    return json(200, { success: true, new_contract: id });
  }

  private view(instance: FakeInstance): Json {
    const up = instance.polls >= this.addressAfterPolls;
    const running = instance.actual_status === "running" || (instance.actual_status === null && up);
    if (instance.actual_status === null && up) instance.actual_status = "running";
    const status = instance.actual_status ?? (instance.polls > 0 ? "loading" : null);
    return {
      id: instance.id,
      actual_status: status,
      intended_status: instance.intended_status,
      cur_state: instance.cur_state,
      next_state: instance.cur_state,
      status_msg: instance.status_msg,
      label: instance.label,
      image_uuid: instance.image_uuid,
      image_args: instance.image_args,
      image_runtype: "args",
      extra_env: instance.extra_env,
      is_bid: instance.is_bid,
      start_date: instance.start_date,
      public_ipaddr: running ? "203.0.113.7\n" : undefined,
      // Docker's port map, only present on running instances.
      ports: running ? Object.fromEntries(instance.exposed.map((p) => [`${p}/tcp`, [{ HostIp: "0.0.0.0", HostPort: String(40_000 + p) }]])) : null,
    };
  }

  private showInstance(id: number): Response {
    const instance = this.instances.get(id);
    if (!instance)
      return this.unknownInstance === "404"
        ? json(404, { success: false, error: "no_such_instance", msg: "Instance not found" })
        : json(200, { instances: null });
    instance.polls++;
    return json(200, { instances: this.view(instance) });
  }

  private destroyInstance(id: number): Response {
    if (!this.instances.delete(id)) return json(404, { success: false, error: "not_found", msg: "Instance not found" });
    return json(200, { success: true, msg: "Instance destroyed successfully" });
  }

  private showInstances(params: URLSearchParams): Response {
    const limit = Math.min(25, Number(params.get("limit") ?? 25) || 5);
    let cols: string[] = ["*"];
    try {
      if (params.get("select_cols")) cols = JSON.parse(params.get("select_cols") ?? "[]");
    } catch {
      return json(400, { error: "invalid_request", msg: "Error in query parameters: select_cols" });
    }
    let after = 0;
    const token = params.get("after_token");
    if (token) {
      try {
        after = Number(JSON.parse(atob(token)).values.id);
      } catch {
        return json(400, { error: "invalid_token", msg: "Invalid pagination token" });
      }
    }
    const all = [...this.instances.values()].sort((a, b) => a.id - b.id);
    const page = all.filter((i) => i.id > after).slice(0, limit);
    const last = page.at(-1);
    const more = last !== undefined && all.some((i) => i.id > last.id);
    const rows = page.map((i) => {
      const row = { id: i.id, label: i.label, start_date: i.start_date, actual_status: i.actual_status };
      return cols.includes("*") ? row : Object.fromEntries(cols.map((c) => [c, (row as Json)[c] ?? null]));
    });
    return json(200, {
      success: true,
      instances_found: rows.length,
      total_instances: all.length,
      next_token: more && last ? btoa(JSON.stringify({ values: { id: last.id } })) : null,
      instances: rows,
    });
  }
}

/** `-e K=V -e K2='a b' -p 8000:8000` as Vast stores it: `[["K","V"], ["-p 8000:8000","1"]]`, and the exposed ports. */
export function parseDockerFlags(flags: string): { vars: [string, string][]; ports: number[] } {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < flags.length; i++) {
    const c = flags[i] ?? "";
    if (c === "'") {
      const close = flags.indexOf("'", i + 1);
      word = (word ?? "") + flags.slice(i + 1, close);
      i = close;
    } else if (c === "\\") {
      word = (word ?? "") + (flags[++i] ?? "");
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  const vars: [string, string][] = [];
  const ports: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const flag = words[i];
    const value = words[i + 1] ?? "";
    if (flag === "-e") {
      const eq = value.indexOf("=");
      vars.push([value.slice(0, eq), value.slice(eq + 1)]);
      i++;
    } else if (flag === "-p") {
      vars.push([`-p ${value}`, "1"]);
      ports.push(Number(value.split(":")[1]));
      i++;
    }
  }
  return { vars, ports };
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
