CREATE TABLE "orders"."order_timeline" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "orders"."order_timeline_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"order_id" varchar(64) NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"entry" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "order_timeline_order_at_idx" ON "orders"."order_timeline" ("order_id","at");