CREATE TABLE "usage_daily_fold" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"folded_through" timestamp with time zone NOT NULL,
	CONSTRAINT "usage_daily_fold_one_row" CHECK ("usage_daily_fold"."singleton")
);
--> statement-breakpoint
CREATE INDEX "instance_usage_hourly_hour_brin" ON "instance_usage_hourly" USING brin ("hour");--> statement-breakpoint
-- Until now the billing tick wrote every day's row, so the days before today are whole; today's (and later)
-- are read from the hours until the fold reaches them, and the fold replaces what the tick wrote of today.
INSERT INTO "usage_daily_fold" ("singleton", "folded_through") VALUES (true, date_trunc('day', now(), 'UTC'));
