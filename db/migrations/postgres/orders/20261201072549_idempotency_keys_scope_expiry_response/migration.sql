-- Idempotency keys get a scope (client, route), the first answer as sent, and an expiry.
-- Keys written before this were unscoped and stored no answer: each is kept for both routes it may have
-- come from (POST /orders and POST /order), without an answer (create-order replays those as it did then),
-- and lives 24 h (the default window) from its creation.
ALTER TABLE "orders"."idempotency_keys" ADD COLUMN "client_id" varchar(128) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ADD COLUMN "route" varchar(64) DEFAULT 'POST /orders' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ALTER COLUMN "route" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ADD COLUMN "response_status" integer;--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ADD COLUMN "response_body" text;--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
UPDATE "orders"."idempotency_keys" SET "expires_at" = "created_at" + interval '24 hours';--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ALTER COLUMN "expires_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" DROP CONSTRAINT "idempotency_keys_pkey";--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ADD CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("client_id","route","key");--> statement-breakpoint
INSERT INTO "orders"."idempotency_keys" ("client_id", "route", "key", "request_hash", "order_id", "created_at", "expires_at")
  SELECT "client_id", 'POST /order', "key", "request_hash", "order_id", "created_at", "expires_at"
  FROM "orders"."idempotency_keys" WHERE "route" = 'POST /orders';--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_at_idx" ON "orders"."idempotency_keys" ("expires_at");
