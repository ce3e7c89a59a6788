CREATE TABLE "account_usage_hourly" (
	"account_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"cost_cents" bigint DEFAULT 0 NOT NULL,
	"billable_seconds" bigint DEFAULT 0 NOT NULL,
	"refunded_cents" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "account_usage_hourly_pkey" PRIMARY KEY("account_id","hour")
);
--> statement-breakpoint
CREATE TABLE "instance_usage_daily" (
	"instance_id" text NOT NULL,
	"day" timestamp with time zone NOT NULL,
	"account_id" text NOT NULL,
	"cost_cents" bigint DEFAULT 0 NOT NULL,
	"billable_seconds" bigint DEFAULT 0 NOT NULL,
	"refunded_cents" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "instance_usage_daily_pkey" PRIMARY KEY("instance_id","day")
);
--> statement-breakpoint
CREATE TABLE "instance_usage_hourly" (
	"instance_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"account_id" text NOT NULL,
	"cost_cents" bigint DEFAULT 0 NOT NULL,
	"billable_seconds" bigint DEFAULT 0 NOT NULL,
	"refunded_cents" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "instance_usage_hourly_pkey" PRIMARY KEY("instance_id","hour")
);
--> statement-breakpoint
CREATE INDEX "instance_usage_daily_account_idx" ON "instance_usage_daily" USING btree ("account_id","day");--> statement-breakpoint
CREATE INDEX "instance_usage_hourly_account_idx" ON "instance_usage_hourly" USING btree ("account_id","hour");--> statement-breakpoint
-- Every billing tick rewrites its instances' and accounts' rows of the hour and day (a one-minute tick: 60 times an
-- hour); no index covers the amounts, so with room left on each page the new versions stay HOT.
ALTER TABLE "instance_usage_hourly" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "instance_usage_daily" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "account_usage_hourly" SET (fillfactor = 70);--> statement-breakpoint
-- The rollups of what metering billed before they existed, from the ledger, hour by hour of the entries' created_at,
-- as the tick writes them. A metering debit (`debit:<run>:<seconds>`) adds its cents and its seconds beyond the run's
-- previous debit; a run's seconds billed after its last debit (no new cent yet) land in the hour its billable time
-- ended. Any other debit or refund of an instance of the entry's own account adds its cents alone.
WITH owned AS (
  SELECT e.*, CASE WHEN e.kind = 'debit' AND e.reference ~ '^debit:[^:]+:[0-9]{1,12}$' THEN split_part(e.reference, ':', 2) END AS run_id
  FROM "ledger_entries" e
  JOIN "instances" i ON i.id = e.instance_id AND i.account_id = e.account_id
  WHERE e.kind IN ('debit', 'refund')
),
metered AS (
  SELECT o.instance_id, o.account_id, o.created_at AS at, -o.amount_cents AS cost_cents, r.id AS run_id,
         split_part(o.reference, ':', 3)::bigint AS seconds
  FROM owned o JOIN "instance_runs" r ON r.id = o.run_id AND r.instance_id = o.instance_id
),
deltas AS (
  SELECT instance_id, account_id, at, cost_cents,
         seconds - coalesce(lag(seconds) OVER (PARTITION BY run_id ORDER BY seconds), 0) AS billable_seconds, 0::bigint AS refunded_cents
  FROM metered
  UNION ALL
  SELECT o.instance_id, o.account_id, o.created_at, CASE WHEN o.kind = 'debit' THEN -o.amount_cents ELSE 0 END, 0,
         CASE WHEN o.kind = 'refund' THEN o.amount_cents ELSE 0 END
  FROM owned o
  WHERE NOT EXISTS (SELECT FROM "instance_runs" r WHERE r.id = o.run_id AND r.instance_id = o.instance_id)
  UNION ALL
  SELECT r.instance_id, i.account_id,
         least(coalesce(r.ended_at, 'infinity'::timestamptz), coalesce(r.last_heartbeat_at, r.running_at)), 0,
         r.billed_seconds - coalesce((SELECT max(m.seconds) FROM metered m WHERE m.run_id = r.id), 0), 0
  FROM "instance_runs" r JOIN "instances" i ON i.id = r.instance_id
  WHERE r.billed_seconds > coalesce((SELECT max(m.seconds) FROM metered m WHERE m.run_id = r.id), 0) AND r.running_at IS NOT NULL
),
instance_hours AS (
  INSERT INTO "instance_usage_hourly" (instance_id, hour, account_id, cost_cents, billable_seconds, refunded_cents)
  SELECT instance_id, date_trunc('hour', at, 'UTC'), account_id, sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
  FROM deltas GROUP BY 1, 2, 3
),
instance_days AS (
  INSERT INTO "instance_usage_daily" (instance_id, day, account_id, cost_cents, billable_seconds, refunded_cents)
  SELECT instance_id, date_trunc('day', at, 'UTC'), account_id, sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
  FROM deltas GROUP BY 1, 2, 3
)
INSERT INTO "account_usage_hourly" (account_id, hour, cost_cents, billable_seconds, refunded_cents)
SELECT account_id, date_trunc('hour', at, 'UTC'), sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
FROM deltas GROUP BY 1, 2;
