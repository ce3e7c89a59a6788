import { resolve } from "node:path";
import { z } from "zod";
import { parseTrustedProxies } from "./auth/client-address";

/** The project root, so relative paths in config mean the same from any cwd. */
export const projectRoot = resolve(import.meta.dir, "..");

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();

const schema = z
  .object({
    PORT: port.default(3000),
    HOST: z.string().default("127.0.0.1"),
    /**
     * How many api and worker processes `npm start` runs on one PostgreSQL. The api replicas share PORT
     * (SO_REUSEPORT: the kernel spreads connections over them); each worker replica takes jobs from the same queue.
     */
    API_REPLICAS: z.coerce.number().int().min(1).max(64).default(1),
    WORKER_REPLICAS: z.coerce.number().int().min(1).max(64).default(1),
    /** Which replica this process is, from 1: set by the supervisor for each child it starts. */
    QDZ_REPLICA: z.coerce.number().int().min(1).max(64).default(1),
    /** The origin people and the CLI use; invite links and the CSRF check are built from it. */
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** The api's and workers' connection. Unset: the supervisor starts an embedded PostgreSQL under QDZ_DATA_DIR. */
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    /** The schema owner's connection, for migrations and grants; unset: DATABASE_URL's user does both. */
    DATABASE_OWNER_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    QDZ_DATA_DIR: z.string().default(".data"),
    EMBEDDED_PG_PORT: port.default(54329),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    SESSION_TTL_DAYS: positiveInt.default(30),
    INVITE_TTL_DAYS: positiveInt.default(7),
    /**
     * Failed sign-ins allowed per email inside the window; further attempts for that email are refused
     * unchecked. Beyond 4× this from one client address, its attempts are slowed, never refused when right.
     */
    LOGIN_MAX_FAILURES: positiveInt.default(5),
    LOGIN_WINDOW_MINUTES: positiveInt.default(15),
    /** Sign-ups accepted per client address inside the window; more are answered 429. */
    SIGNUP_MAX_PER_IP: positiveInt.default(10),
    SIGNUP_WINDOW_MINUTES: positiveInt.default(60),
    /**
     * Reverse proxies (IP addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the client.
     * Unset: the socket's peer is the client and the header is ignored, since anyone can send it.
     */
    TRUSTED_PROXIES: z
      .string()
      .default("")
      .transform((list, ctx) => {
        try {
          return parseTrustedProxies(list);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
          return z.NEVER;
        }
      }),
    /** How often API keys' last-used times are written, in milliseconds. */
    KEY_USAGE_FLUSH_MS: positiveInt.default(5000),
    /**
     * /trpc: the largest request body accepted, in bytes (1 MiB). The largest legitimate inputs are a
     * firewall's rules (a full deny list is ~200 KB) and a firewall test prompt (100,000 characters).
     */
    TRPC_MAX_BODY_BYTES: positiveInt.default(1024 * 1024),

    /** Stripe; both unset means the development gateway stands in. */
    STRIPE_SECRET_KEY: z.string().startsWith("sk_").optional(),
    STRIPE_WEBHOOK_SECRET: z.string().startsWith("whsec_").optional(),
    /** Another Stripe API base URL (stripe-mock, a test server); unset is Stripe's own. */
    STRIPE_API_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Signs the development gateway's events; it only ever works while Stripe is unset. */
    DEV_GATEWAY_WEBHOOK_SECRET: z.string().startsWith("whsec_").default("whsec_qdz_development_gateway_only"),
    TOPUP_MIN_CENTS: positiveInt.default(500),
    TOPUP_MAX_CENTS: positiveInt.default(1_000_000),
    /** How long running instances keep running after the balance goes negative. */
    GRACE_WINDOW_HOURS: positiveInt.default(24),
    /** A launch must be covered for this long at its hourly rate. */
    MIN_RUNWAY_HOURS: z.coerce.number().min(0).default(1),
    /** How often running instances are billed, in seconds (every tick bills whole seconds, so a shorter one only shows charges sooner). */
    BILLING_TICK_SECONDS: z.coerce.number().int().min(5).default(60),
    /** The scheduler's credential for POST /billing/debit; unset turns that endpoint off. */
    BILLING_INTERNAL_TOKEN: z.string().min(32, { message: "use at least 32 characters" }).optional(),
    /** The operator's credential for GET /metrics (as `Authorization: Bearer <token>`); unset turns /metrics off (404). */
    OPERATOR_TOKEN: z.string().min(32, { message: "use at least 32 characters" }).optional(),
    /**
     * Platform operators, by email (comma-separated): they see the Operator page (every account's balance, the
     * queues, the providers) and may post ledger adjustments. Unset: the first person to sign up on a database
     * with no users becomes the operator.
     */
    OPERATOR_EMAILS: z
      .string()
      .default("")
      .transform((list) =>
        list
          .split(",")
          .map((email) => email.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(z.array(z.email({ message: "list email addresses, separated by commas" }))),
    /**
     * The workers' own /metrics listener (same token); unset, the workers open no port. One port per worker
     * process: with WORKER_REPLICAS, replica n (from 1) listens on this port + n - 1.
     */
    WORKERS_METRICS_PORT: port.optional(),
    /**
     * Each api replica's own /metrics listener (same token), replica n on this port + n - 1; unset, none. With
     * API_REPLICAS above 1, scrape these: /metrics on PORT answers from whichever replica the connection reached.
     */
    API_METRICS_PORT: port.optional(),

    /** The Hugging Face hub (or a mirror); models are validated and GGUF files downloaded from it. */
    HF_ENDPOINT: z.url({ protocol: /^https?$/ }).default("https://huggingface.co"),
    /** The local provider's virtual GPUs, as GPU:COUNT pairs from the catalog; `none` turns the local provider off. */
    LOCAL_GPUS: z.string().default("L4:2,L40S:2,A100-80G:2,H100-80G:1"),
    /** How long the reference runtime takes to "boot" (pull, download, load), in ms. */
    LOCAL_REFERENCE_BOOT_MS: z.coerce.number().int().min(0).default(1500),
    /** The api's URL as pods reach it; defaults to this machine's api port. */
    AGENT_CONTROL_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** EUR per USD, for clouds that price in dollars (RunPod, Vast.ai, Lambda): their cost, compared with locked EUR rates. */
    USD_TO_EUR: z.coerce.number().positive().max(10).default(0.92),
    /** How often each cloud or cluster is asked for its offers in the background (the local machine is asked at every placement). */
    OFFERS_REFRESH_SECONDS: positiveInt.default(30),
    /** Offers tried (failover) before a placement fails. */
    PLACEMENT_MAX_ATTEMPTS: positiveInt.default(3),
    /** A pod whose runtime is not healthy this long after placement is released as non_bootstrap. */
    BOOTSTRAP_DEADLINE_SECONDS: positiveInt.default(900),
    /** A running pod silent this long is checked with its provider and failed if it is gone. */
    HEARTBEAT_TIMEOUT_SECONDS: positiveInt.default(30),
    /** Resource samples older than this are pruned (every 5 minutes); the Usage tab charts the last 24 h of them. */
    RESOURCE_SAMPLE_RETENTION_HOURS: positiveInt.default(24),
    /**
     * A provisioner renews its claim on a run every third of this; a claim not renewed this long belongs to a
     * worker that died, and the reconciler hands the run to another (which first stops the pod it may have made).
     */
    PROVISION_LEASE_SECONDS: positiveInt.default(30),

    /** /v1: the largest request body accepted, in bytes (8 MiB). */
    V1_MAX_BODY_BYTES: positiveInt.default(8 * 1024 * 1024),
    /** /v1: how long a runtime may take to send its response headers before the proxy answers 504. */
    V1_UPSTREAM_TIMEOUT_MS: positiveInt.default(300_000),
    /** /v1: requests per minute per API key, across every api replica (a token bucket with this burst). */
    V1_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
    /**
     * The longest the /v1 proxy's API key and serving-name lookups live should a change notification be missed;
     * notifications reach every replica within milliseconds of the commit. (Firewall lookups keep 30 s and agent
     * tokens 10 minutes: see src/firewall/lookup.ts and src/instances/agent-directory.ts.)
     */
    V1_CACHE_TTL_MS: positiveInt.default(30_000),
    /** /v1 embeddings: the largest image fetched from an image_url (or sent as a data: URL), in bytes (10 MiB). */
    V1_IMAGE_MAX_BYTES: positiveInt.default(10 * 1024 * 1024),
    /** /v1 embeddings: how long fetching one image may take, DNS and redirects included. */
    V1_IMAGE_TIMEOUT_MS: positiveInt.default(10_000),
    /** /v1 embeddings: the most image parts one request may carry; more are refused before any is fetched. */
    V1_IMAGE_MAX_PER_REQUEST: positiveInt.default(16),

    /** Alert webhooks: attempts per delivery (the first and its retries) before it is marked failed. */
    WEBHOOK_MAX_ATTEMPTS: positiveInt.default(6),
    /** Alert webhooks: the first retry's delay in seconds; each later one roughly doubles (pg-boss backoff). */
    WEBHOOK_RETRY_DELAY_SECONDS: positiveInt.default(30),
    /** Alert webhooks: how long one attempt may take, DNS, connection, response headers and its logged excerpt included. */
    WEBHOOK_TIMEOUT_SECONDS: positiveInt.default(10),
    /**
     * Development only: lets webhook URLs use http and reach private, loopback and link-local addresses
     * (a receiver on this machine). Off, endpoints must be https on public addresses.
     */
    WEBHOOK_ALLOW_PRIVATE_URLS: z.stringbool().default(false),

    /** Schedules: how late a due rule may still fire (workers were down); later, it is recorded as missed. */
    SCHEDULE_CATCH_UP_SECONDS: positiveInt.default(600),
    /** Schedules: how often the workers look for due rules. */
    SCHEDULE_POLL_SECONDS: positiveInt.default(15),
  })
  .refine((env) => Boolean(env.STRIPE_SECRET_KEY) === Boolean(env.STRIPE_WEBHOOK_SECRET), {
    message: "set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or neither (then the development gateway is used)",
    path: ["STRIPE_WEBHOOK_SECRET"],
  })
  .refine((env) => !env.DATABASE_OWNER_URL || env.DATABASE_URL, {
    message: "is only used with DATABASE_URL (the embedded PostgreSQL makes its own roles): set DATABASE_URL too, or unset this",
    path: ["DATABASE_OWNER_URL"],
  })
  .refine((env) => env.TOPUP_MIN_CENTS <= env.TOPUP_MAX_CENTS, { message: "must not exceed TOPUP_MAX_CENTS", path: ["TOPUP_MIN_CENTS"] })
  .transform((env) => ({
    ...env,
    PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ""),
    AGENT_CONTROL_URL: (env.AGENT_CONTROL_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/$/, ""),
    QDZ_DATA_DIR: resolve(projectRoot, env.QDZ_DATA_DIR),
  }));

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {}

/** Parses the environment; empty strings count as unset, as a shell `FOO=` means. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

let cached: Config | undefined;

/** The process's configuration, parsed once on first use. */
export function config(): Config {
  if (!cached) {
    try {
      cached = loadConfig(process.env);
    } catch (error) {
      if (error instanceof ConfigError) {
        // Plain text, for the person starting it: the logger's level is itself configuration.
        console.error(error.message);
        process.exit(1);
      }
      throw error;
    }
  }
  return cached;
}
