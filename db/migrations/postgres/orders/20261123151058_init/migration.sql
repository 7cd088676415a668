CREATE SCHEMA "orders";
--> statement-breakpoint
CREATE TABLE "orders"."idempotency_keys" (
	"key" varchar(255) PRIMARY KEY,
	"request_hash" varchar(128) NOT NULL,
	"order_id" varchar(64) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders"."notifications" (
	"id" uuid PRIMARY KEY,
	"order_id" varchar(64) NOT NULL,
	"kind" varchar(32) NOT NULL,
	"channel" varchar(32) NOT NULL,
	"message" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_order_kind_key" UNIQUE("order_id","kind"),
	CONSTRAINT "notifications_kind_values" CHECK ("kind" in ('payment-failed'))
);
--> statement-breakpoint
CREATE TABLE "orders"."orders" (
	"id" varchar(64) PRIMARY KEY,
	"amount_minor" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"status" varchar(16) DEFAULT 'PENDING' NOT NULL,
	"payment_status" varchar(16) DEFAULT 'NOT_PAID' NOT NULL,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_amount_positive" CHECK ("amount_minor" > 0),
	CONSTRAINT "orders_currency_code" CHECK ("currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "orders_status_values" CHECK ("status" in ('PENDING', 'CONFIRMED', 'SHIPPED', 'CANCELLED')),
	CONSTRAINT "orders_payment_status_values" CHECK ("payment_status" in ('NOT_PAID', 'PAID', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE "orders"."inbox" (
	"consumer" varchar(255),
	"event_id" uuid,
	"handled_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_pkey" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "orders"."outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "orders"."outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL UNIQUE,
	"topic" varchar(255) NOT NULL,
	"key" varchar(255) NOT NULL,
	"value" text NOT NULL,
	"headers" jsonb DEFAULT '{}' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders"."shipments" (
	"order_id" varchar(64) PRIMARY KEY,
	"tracking_id" varchar(128) NOT NULL UNIQUE,
	"carrier" varchar(64) NOT NULL,
	"shipped_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "orders"."outbox" ("id") WHERE "published_at" is null;--> statement-breakpoint
ALTER TABLE "orders"."notifications" ADD CONSTRAINT "notifications_order_id_orders_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id");--> statement-breakpoint
ALTER TABLE "orders"."shipments" ADD CONSTRAINT "shipments_order_id_orders_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id");