/**
 * The /v1 rate limit across replicas (issue 16), measured against the bench's PostgreSQL: what a request
 * costs with the shared limiter next to the per-process bucket it replaced (the baseline, same run), and
 * how close four replicas hammering one key stay to the configured rate.
 */
import { connect } from "../../../db/client";
import { randomBase62 } from "../../../src/ids";
import { type LeaseTokens, RateLimiter, SharedRateLimiter } from "../../../src/proxy/rate-limit";
import { leaseFromDatabase } from "../../../src/proxy/rate-limit-buckets";

export interface CostRow {
  perMinute: number;
  keys: number;
  requests: number;
  memoryUsPerRequest: number;
  sharedUsPerRequest: number;
  leasesPer1000: number;
}

export interface FleetRow {
  perMinute: number;
  replicas: number;
  seconds: number;
  allowed: number;
  expected: number;
  refused: number;
  leasesPerSecond: number;
}

const CONCURRENCY = 16;

/** `requests` takes spread over `keys`, CONCURRENCY at a time: the µs each took on average. */
async function timeTakes(take: (key: string) => unknown, keys: string[], perKey: number): Promise<number> {
  let next = 0;
  const total = keys.length * perKey;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++;
        await take(keys[i % keys.length]!);
      }
    }),
  );
  return ((performance.now() - started) * 1000) / total;
}

function counted(lease: LeaseTokens): { lease: LeaseTokens; count: () => number } {
  let leases = 0;
  return {
    lease: async (...args) => {
      leases++;
      return lease(...args);
    },
    count: () => leases,
  };
}

export async function limiterPhase(databaseUrl: string, quick: boolean): Promise<{ cost: CostRow[]; fleet: FleetRow[] }> {
  const handles = Array.from({ length: 4 }, () => connect(databaseUrl, { max: 4 }));
  try {
    const cost: CostRow[] = [];
    // Every request allowed: each key takes its whole burst, the most leases the shared limiter ever makes.
    for (const [perMinute, keyCount] of [
      [600, 200],
      [60_000, 20],
    ] as const) {
      const keys = Array.from({ length: keyCount }, () => `bench_${randomBase62(10)}`);
      const memory = new RateLimiter(perMinute);
      const leases = counted(leaseFromDatabase(handles[0]!.db));
      const shared = new SharedRateLimiter(perMinute, leases.lease);
      // Interleaved and repeated, the median kept: the machine's other work shifts both alike.
      const memoryUs: number[] = [];
      const sharedUs: number[] = [];
      const rounds = quick ? 1 : 3;
      for (let round = 0; round < rounds; round++) {
        const fresh = keys.map((key) => `${key}_${round}`);
        memoryUs.push(await timeTakes((key) => memory.take(key), fresh, perMinute));
        sharedUs.push(await timeTakes((key) => shared.take(key), fresh, perMinute));
      }
      const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      const requests = keyCount * perMinute * rounds;
      cost.push({
        perMinute,
        keys: keyCount,
        requests,
        memoryUsPerRequest: median(memoryUs),
        sharedUsPerRequest: median(sharedUs),
        leasesPer1000: (leases.count() / requests) * 1000,
      });
    }

    const fleet: FleetRow[] = [];
    for (const perMinute of [600, 6000]) {
      const seconds = quick ? 3 : 10;
      const key = `bench_fleet_${randomBase62(10)}`;
      const leases = handles.map((handle) => counted(leaseFromDatabase(handle.db)));
      const replicas = leases.map((lease) => new SharedRateLimiter(perMinute, lease.lease));
      let allowed = 0;
      let refused = 0;
      const started = performance.now();
      // Each replica as busy as a runaway client can make it: far over the limit, all the time.
      await Promise.all(
        replicas.map(async (limiter) => {
          while (performance.now() - started < seconds * 1000) {
            for (const state of await Promise.all(Array.from({ length: 8 }, () => limiter.take(key)))) state.allowed ? allowed++ : refused++;
            await Bun.sleep(0);
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      fleet.push({
        perMinute,
        replicas: replicas.length,
        seconds: elapsed,
        allowed,
        refused,
        expected: perMinute + (perMinute * elapsed) / 60,
        leasesPerSecond: leases.reduce((sum, lease) => sum + lease.count(), 0) / elapsed,
      });
    }
    return { cost, fleet };
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
}

export function limiterSection(result: { cost: CostRow[]; fleet: FleetRow[] }): string[] {
  const lines = ["", "## Rate limit across replicas", ""];
  lines.push(
    "The /v1 limit is one token bucket per key in PostgreSQL (`qdz_rate_limit_take`), leased by each api replica a hundredth of the limit at a time " +
      "(src/proxy/rate-limit.ts). Baseline: the per-process bucket it replaced, in the same run. Cost: every request allowed (each key spends its whole burst, " +
      `${CONCURRENCY} at a time), the worst case for leases; median of the rounds. The /v1 rows above run with the limit raised out of the way.`,
    "",
  );
  lines.push("| limit /min | keys | requests | per-process µs/req | shared µs/req | ratio | leases per 1000 req |");
  lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of result.cost) {
    lines.push(
      `| ${row.perMinute} | ${row.keys} | ${row.requests} | ${row.memoryUsPerRequest.toFixed(2)} | ${row.sharedUsPerRequest.toFixed(2)} | ${(row.sharedUsPerRequest / row.memoryUsPerRequest).toFixed(1)}× | ${row.leasesPer1000.toFixed(1)} |`,
    );
  }
  lines.push(
    "",
    "Accuracy: four replicas (four connections) hammer one key far over its limit; allowed = what the fleet let through, expected = the burst plus the refill for the time it ran. Goal: within 10 %.",
    "",
  );
  lines.push("| limit /min | replicas | seconds | allowed | expected | error | refused | leases/s (all replicas) | goal |");
  lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const row of result.fleet) {
    const error = (row.allowed / row.expected - 1) * 100;
    lines.push(
      `| ${row.perMinute} | ${row.replicas} | ${row.seconds.toFixed(1)} | ${row.allowed} | ${row.expected.toFixed(0)} | ${error >= 0 ? "+" : ""}${error.toFixed(1)} % | ${row.refused} | ${row.leasesPerSecond.toFixed(1)} | ${Math.abs(error) <= 10 ? "✅" : "❌"} |`,
    );
  }
  return lines;
}
