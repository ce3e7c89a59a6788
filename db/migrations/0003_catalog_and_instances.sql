CREATE TYPE "public"."capacity_tier" AS ENUM('secure', 'community');--> statement-breakpoint
CREATE TYPE "public"."install_state" AS ENUM('installing', 'installed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."instance_state" AS ENUM('pending', 'running', 'stopping', 'stopped', 'failed', 'non_bootstrap');--> statement-breakpoint
CREATE TYPE "public"."model_class" AS ENUM('pod', 'embeddings', 'llm', 'llm_large');--> statement-breakpoint
CREATE TYPE "public"."placement_mode" AS ENUM('smart', 'pinned');--> statement-breakpoint
CREATE TABLE "gpu_types" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"vram_gib" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instance_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"instance_id" text NOT NULL,
	"from_state" "instance_state",
	"to_state" "instance_state" NOT NULL,
	"cause" text NOT NULL,
	"detail" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instance_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"instance_id" text NOT NULL,
	"number" integer NOT NULL,
	"provider_id" text,
	"pod_id" text,
	"region" text,
	"gpu_type" text,
	"rate_cents_per_hour" integer,
	"runtime_url" text,
	"ports" jsonb,
	"claimed_at" timestamp with time zone,
	"agent_token_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"running_at" timestamp with time zone,
	"last_heartbeat_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"end_reason" text
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text,
	"description" text,
	"serving_name" text,
	"state" "instance_state" NOT NULL,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"hf_repo" text,
	"model_file" text,
	"task" text,
	"model_class" "model_class" NOT NULL,
	"gpu_preferences" text[] NOT NULL,
	"gpu_count" integer NOT NULL,
	"min_vram_gib" integer,
	"tier" "capacity_tier" NOT NULL,
	"allowed_regions" text[] DEFAULT '{}' NOT NULL,
	"max_price_cents_per_hour" integer,
	"placement_mode" "placement_mode" DEFAULT 'smart' NOT NULL,
	"context_length" integer,
	"pricing_snapshot" jsonb NOT NULL,
	"runtime_config" jsonb NOT NULL,
	"model_assessment" jsonb,
	"provider_id" text,
	"region" text,
	"gpu_type" text,
	"rate_cents_per_hour" integer,
	"current_run_id" text,
	"progress" jsonb,
	"failure_reason" text,
	"failure_remediation" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "placement_decisions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"instance_id" text NOT NULL,
	"run_id" text NOT NULL,
	"mode" "placement_mode" NOT NULL,
	"considered" jsonb NOT NULL,
	"attempts" jsonb NOT NULL,
	"chosen_offer_id" text,
	"decided_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "prices" (
	"gpu_type_id" text NOT NULL,
	"tier" "capacity_tier" NOT NULL,
	"model_class" "model_class" NOT NULL,
	"rate_cents_per_gpu_hour" integer NOT NULL,
	"provider_cost_cents_per_gpu_hour" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prices_pkey" PRIMARY KEY("gpu_type_id","tier","model_class")
);
--> statement-breakpoint
CREATE TABLE "resource_samples" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"instance_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"cpu_percent" real,
	"memory_used_bytes" bigint,
	"memory_total_bytes" bigint,
	"disk_used_bytes" bigint,
	"disk_total_bytes" bigint,
	"gpu_util_percent" real,
	"vram_used_bytes" bigint,
	"vram_total_bytes" bigint,
	"gpu_temperature_c" real
);
--> statement-breakpoint
CREATE TABLE "runtime_installs" (
	"runtime_id" text PRIMARY KEY NOT NULL,
	"state" "install_state" NOT NULL,
	"version" text,
	"phase" text,
	"progress" real,
	"message" text,
	"binary_path" text,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "runtimes" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"image" text NOT NULL,
	"command" jsonb NOT NULL,
	"port" integer NOT NULL,
	"health_path" text NOT NULL,
	"local_binary" text NOT NULL,
	"architectures" jsonb NOT NULL,
	"tasks" jsonb NOT NULL,
	"modalities" jsonb NOT NULL,
	"formats" jsonb NOT NULL,
	"default_context_length" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"image" text NOT NULL,
	"runtime_id" text,
	"ports" jsonb NOT NULL,
	"position" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "instance_events" ADD CONSTRAINT "instance_events_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instance_runs" ADD CONSTRAINT "instance_runs_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "placement_decisions" ADD CONSTRAINT "placement_decisions_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resource_samples" ADD CONSTRAINT "resource_samples_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "instance_events_instance_idx" ON "instance_events" USING btree ("instance_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "instance_runs_instance_number_key" ON "instance_runs" USING btree ("instance_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "instance_runs_agent_token_key" ON "instance_runs" USING btree ("agent_token_hash");--> statement-breakpoint
CREATE INDEX "instances_account_idx" ON "instances" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "instances_account_serving_name_key" ON "instances" USING btree ("account_id","serving_name") WHERE "instances"."serving_name" is not null and "instances"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "instances_state_idx" ON "instances" USING btree ("state");--> statement-breakpoint
CREATE INDEX "placement_decisions_instance_idx" ON "placement_decisions" USING btree ("instance_id","decided_at");--> statement-breakpoint
CREATE INDEX "resource_samples_instance_at_idx" ON "resource_samples" USING btree ("instance_id","at");