CREATE TYPE "public"."api_key_scope" AS ENUM('inference', 'read', 'full');--> statement-breakpoint
CREATE TYPE "public"."payment_review_reason" AS ENUM('malformed', 'unknown_checkout', 'checkout_not_open', 'amount_mismatch', 'currency_mismatch');--> statement-breakpoint
CREATE TABLE "payment_reviews" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"reason" "payment_review_reason" NOT NULL,
	"event_id" text,
	"event_type" text,
	"checkout_id" text,
	"account_id" text,
	"detail" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "signup_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"ip" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "scope" "api_key_scope" DEFAULT 'inference' NOT NULL;--> statement-breakpoint
ALTER TABLE "instance_runs" ADD COLUMN "provisioning_pod_id" text;--> statement-breakpoint
CREATE INDEX "payment_reviews_open_idx" ON "payment_reviews" USING btree ("received_at") WHERE "payment_reviews"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "signup_attempts_ip_at_idx" ON "signup_attempts" USING btree ("ip","at");--> statement-breakpoint
-- Keys made before scopes existed could do everything a member can: keep them working as they were.
UPDATE "api_keys" SET "scope" = 'full';
