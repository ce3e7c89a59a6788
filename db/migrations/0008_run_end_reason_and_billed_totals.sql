CREATE TYPE "public"."run_end_reason" AS ENUM('stopped', 'grace', 'deleted', 'failed', 'lost', 'reclaimed', 'non_bootstrap', 'placement_failed');--> statement-breakpoint
ALTER TABLE "instance_runs" ADD COLUMN "ended_because" "run_end_reason";--> statement-breakpoint
ALTER TABLE "instance_runs" ADD COLUMN "billed_seconds" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "instance_runs" ADD COLUMN "billed_cents" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "instance_runs" ADD COLUMN "settled_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "instance_runs_billable_idx" ON "instance_runs" USING btree ("id") WHERE "instance_runs"."ended_at" is null and "instance_runs"."running_at" is not null;--> statement-breakpoint
CREATE INDEX "instance_runs_unsettled_idx" ON "instance_runs" USING btree ("ended_at") WHERE "instance_runs"."ended_at" is not null and "instance_runs"."settled_at" is null;--> statement-breakpoint
-- Runs that ended before the reason had a type: read it from the words they were given.
UPDATE "instance_runs" SET "ended_because" = CASE
  WHEN "end_reason" = 'stopped' THEN 'stopped'
  WHEN "end_reason" = 'non_bootstrap' THEN 'non_bootstrap'
  WHEN "end_reason" = 'placement failed' THEN 'placement_failed'
  WHEN "end_reason" LIKE 'The pod stopped responding%' THEN 'lost'
  ELSE 'failed'
END::run_end_reason
WHERE "ended_at" IS NOT NULL;
--> statement-breakpoint
-- A run ends when billing must stop: for a stop, the request. Runs already stopping end at that moment.
UPDATE "instance_runs" AS r SET "ended_at" = i."state_changed_at", "ended_because" = 'stopped', "end_reason" = 'stopped'
FROM "instances" AS i
WHERE i."current_run_id" = r."id" AND i."state" = 'stopping' AND r."ended_at" IS NULL;
--> statement-breakpoint
-- Nothing was ever charged before metering: runs that ended before it are closed as they stand, never billed after the fact.
UPDATE "instance_runs" SET "settled_at" = "ended_at" WHERE "ended_at" IS NOT NULL AND "settled_at" IS NULL;
