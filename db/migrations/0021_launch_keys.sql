-- REST launches' Idempotency-Key: one instance per account and key (db/schema/instances.ts).
CREATE TABLE "launch_keys" (
	"account_id" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"instance_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "launch_keys_account_id_key_pk" PRIMARY KEY("account_id","key")
);
--> statement-breakpoint
ALTER TABLE "launch_keys" ADD CONSTRAINT "launch_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Checked at commit: a launch claims its key before it writes the instance the key names.
ALTER TABLE "launch_keys" ADD CONSTRAINT "launch_keys_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action DEFERRABLE INITIALLY DEFERRED;