CREATE TYPE "public"."audit_actor_kind" AS ENUM('user', 'api_key', 'schedule', 'system');--> statement-breakpoint
CREATE TYPE "public"."audit_kind" AS ENUM('account.signed_up', 'account.renamed', 'session.signed_in', 'api_key.created', 'api_key.revoked', 'member.invited', 'member.invite_revoked', 'member.joined', 'member.role_changed', 'member.removed', 'member.left', 'instance.launched', 'instance.started', 'instance.stopped', 'instance.deleted', 'instance.settings_changed', 'firewall.created', 'firewall.updated', 'firewall.deleted', 'firewall.attached', 'firewall.detached', 'schedule.rule_created', 'schedule.rule_updated', 'schedule.rule_deleted', 'budget.set', 'budget.removed', 'webhook.endpoint_set', 'webhook.endpoint_removed', 'webhook.secret_rotated', 'billing.topup_credited', 'billing.adjustment_posted');--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_kind" "audit_actor_kind" NOT NULL,
	"actor_id" text,
	"actor_label" text,
	"actor_scope" text,
	"request_id" text,
	"kind" "audit_kind" NOT NULL,
	"subject_id" text,
	"changes" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_account_idx" ON "audit_events" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "audit_events_account_kind_idx" ON "audit_events" USING btree ("account_id","kind","id");