CREATE TYPE "public"."schedule_action" AS ENUM('start', 'stop');--> statement-breakpoint
CREATE TYPE "public"."schedule_outcome" AS ENUM('succeeded', 'skipped', 'failed', 'missed');--> statement-breakpoint
CREATE TABLE "schedule_executions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rule_id" text NOT NULL,
	"account_id" text NOT NULL,
	"instance_id" text NOT NULL,
	"action" "schedule_action" NOT NULL,
	"cron" text NOT NULL,
	"time_zone" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"executed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"outcome" "schedule_outcome" NOT NULL,
	"detail" text
);
--> statement-breakpoint
CREATE TABLE "schedule_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"instance_id" text NOT NULL,
	"action" "schedule_action" NOT NULL,
	"cron" text NOT NULL,
	"time_zone" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"note" text,
	"next_run_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "schedule_executions" ADD CONSTRAINT "schedule_executions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_rules" ADD CONSTRAINT "schedule_rules_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_rules" ADD CONSTRAINT "schedule_rules_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "schedule_executions_rule_due_key" ON "schedule_executions" USING btree ("rule_id","due_at");--> statement-breakpoint
CREATE INDEX "schedule_executions_instance_idx" ON "schedule_executions" USING btree ("instance_id","id");--> statement-breakpoint
CREATE INDEX "schedule_rules_due_idx" ON "schedule_rules" USING btree ("next_run_at") WHERE "schedule_rules"."next_run_at" is not null;--> statement-breakpoint
CREATE INDEX "schedule_rules_instance_idx" ON "schedule_rules" USING btree ("instance_id");