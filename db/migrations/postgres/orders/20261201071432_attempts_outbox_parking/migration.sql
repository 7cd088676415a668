CREATE TABLE "orders"."consumer_attempts" (
	"consumer" varchar(255),
	"event_id" uuid,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"first_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consumer_attempts_pkey" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "parked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "lease_owner" varchar(64);