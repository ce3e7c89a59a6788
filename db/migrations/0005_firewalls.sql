CREATE TABLE "firewall_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"instance_id" text,
	"firewall_id" text,
	"rule_id" text NOT NULL,
	"rule_kind" text NOT NULL,
	"action" text NOT NULL,
	"field" text NOT NULL,
	"matches" integer NOT NULL,
	"prompt_excerpt" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firewalls" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"rules" jsonb NOT NULL,
	"store_prompt_text" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instance_firewalls" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"firewall_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "firewall_events" ADD CONSTRAINT "firewall_events_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_events" ADD CONSTRAINT "firewall_events_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_events" ADD CONSTRAINT "firewall_events_firewall_id_firewalls_id_fk" FOREIGN KEY ("firewall_id") REFERENCES "public"."firewalls"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewalls" ADD CONSTRAINT "firewalls_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instance_firewalls" ADD CONSTRAINT "instance_firewalls_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instance_firewalls" ADD CONSTRAINT "instance_firewalls_firewall_id_firewalls_id_fk" FOREIGN KEY ("firewall_id") REFERENCES "public"."firewalls"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "firewall_events_instance_idx" ON "firewall_events" USING btree ("instance_id","id");--> statement-breakpoint
CREATE INDEX "firewall_events_firewall_idx" ON "firewall_events" USING btree ("firewall_id","id");--> statement-breakpoint
CREATE INDEX "firewalls_account_idx" ON "firewalls" USING btree ("account_id","created_at");