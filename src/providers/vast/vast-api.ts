/**
 * The parts of Vast.ai's REST API the adapter uses, as its published reference gives them: `api-reference/openapi.yaml`
 * in the repository vast-ai/docs (read at commit 007833c846f912f7968ff298db8525b642c7db8d). Field names are the
 * reference's own. Answers are parsed loosely (unknown fields kept out, absent optional fields tolerated), so a new
 * field at Vast never breaks a call.
 *
 * - searchOffers   POST   /api/v0/bundles            filters `{field: {op: value}}`, `type` ondemand|bid → `{offers: [...]}`
 * - createInstance PUT    /api/v0/asks/{id}          `{image, env, args, runtype, disk, label, price?}` → `{success, new_contract}`
 * - showInstance   GET    /api/v0/instances/{id}     → `{instances: Instance}`
 * - destroyInstance DELETE /api/v0/instances/{id}    → `{success}`; 404 when there is no such instance
 * - showInstances  GET    /api/v1/instances          keyset pages of at most 25 → `{instances: [...], next_token}`
 *   (the reference lists no GET /api/v0/instances; Vast deprecates it for new accounts with a 410)
 * Auth: `Authorization: Bearer <API key>` (securitySchemes.BearerAuth).
 */
import { z } from "zod";

export const VAST_PATHS = {
  // The reference writes paths without the trailing slash; Vast's own CLI and its generated per-endpoint files use it.
  searchOffers: "/api/v0/bundles/",
  createInstance: (askId: number) => `/api/v0/asks/${askId}/`,
  instance: (id: string) => `/api/v0/instances/${id}/`,
  showInstances: "/api/v1/instances/",
} as const;

/** Search filters: each is an object of operator to value (`{"eq": true}`, `{"in": ["US"]}`). */
export type VastFilter = { eq?: unknown; neq?: unknown; gt?: number; gte?: number; lt?: number; lte?: number; in?: unknown[]; notin?: unknown[] };

export interface VastSearchBody {
  limit: number;
  /** The reference's enum: `ondemand` (the host's fixed price) or `bid` (interruptible, priced at the minimum bid). */
  type: "ondemand" | "bid";
  verified: VastFilter;
  rentable: VastFilter;
  rented: VastFilter;
  datacenter?: VastFilter;
  gpu_name?: VastFilter;
  num_gpus?: VastFilter;
  geolocation?: VastFilter;
  /** GB of disk the instance would have: `dph_total` includes its storage cost. */
  allocated_storage: number;
  order: [string, string][];
}

/** One offer (an ask) in a search answer; `gpu_ram` is in MB in the REST API. */
export const vastOfferSchema = z.object({
  id: z.number().int(),
  gpu_name: z.string(),
  num_gpus: z.number().int().positive(),
  gpu_ram: z.number(),
  /** Total $/hour for the whole offer, storage included; for a `bid` search, priced at the minimum bid. */
  dph_total: z.number().nonnegative(),
  /** Minimum bid price ($/hour) for the whole offer. */
  min_bid: z.number().nonnegative().nullish(),
  /** "City, CC": the two-letter country code last. */
  geolocation: z.string().nullish(),
  /** verified | deverified | unverified */
  verification: z.string().nullish(),
});
export type VastOffer = z.infer<typeof vastOfferSchema>;

export const searchOffersAnswerSchema = z.object({ offers: z.array(z.unknown()) });

export interface VastCreateInstanceBody {
  image: string;
  label: string;
  disk: number;
  runtype: "args";
  /** Docker flag format: `-e K=V -p 8000:8000`. */
  env: string;
  args?: string[];
  /** Bid per machine in $/hour: only for interruptible instances. */
  price?: number;
  cancel_unavail: boolean;
  target_state: "running";
}

export const createInstanceAnswerSchema = z.object({ success: z.boolean().optional(), new_contract: z.number().int() });

/** Docker's port map: `{"8000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "41234"}]}` (the reference also shows a bare list of ports). */
const portMapSchema = z.record(z.string(), z.array(z.object({ HostIp: z.string().optional(), HostPort: z.string() })).nullable());

export const vastInstanceSchema = z.object({
  id: z.number().int(),
  /** Container state: null (provisioning), loading, running, stopped, frozen, exited, rebooting, unknown, offline. */
  actual_status: z.string().nullish(),
  /** What the renter asked for: running, stopped, frozen. */
  intended_status: z.string().nullish(),
  /** The machine contract: running, stopped, unloaded (released on destroy). */
  cur_state: z.string().nullish(),
  status_msg: z.string().nullish(),
  label: z.string().nullish(),
  public_ipaddr: z.string().nullish(),
  ports: z.unknown().optional(),
  /** Made by a bid: an interruptible instance. */
  is_bid: z.boolean().nullish(),
  /** Epoch seconds. */
  start_date: z.number().nullish(),
  /** The reference gives both `["K=V"]` and `[["K", "V"]]`. */
  extra_env: z.unknown().optional(),
});
export type VastInstance = z.infer<typeof vastInstanceSchema>;

export const showInstanceAnswerSchema = z.object({ instances: z.unknown().nullish() });

export const showInstancesAnswerSchema = z.object({
  instances: z.array(z.object({ id: z.number().int(), label: z.string().nullish(), start_date: z.number().nullish() })),
  next_token: z.string().nullish(),
});

/** The host port Docker mapped `port/tcp` to, or null while the map is absent (it arrives once the container runs). */
export function mappedPort(ports: unknown, port: number): number | null {
  const parsed = portMapSchema.safeParse(ports);
  if (!parsed.success) return null;
  const host = Number(parsed.data[`${port}/tcp`]?.[0]?.HostPort);
  return Number.isInteger(host) && host > 0 ? host : null;
}

/** One variable of `extra_env` in either of the reference's shapes. */
export function extraEnvValue(extraEnv: unknown, key: string): string | null {
  if (!Array.isArray(extraEnv)) return null;
  for (const entry of extraEnv) {
    if (Array.isArray(entry) && entry[0] === key && typeof entry[1] === "string") return entry[1];
    if (typeof entry === "string" && entry.startsWith(`${key}=`)) return entry.slice(key.length + 1);
  }
  return null;
}
