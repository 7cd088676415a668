CREATE INDEX "consumer_attempts_last_attempt_at_idx" ON "orders"."consumer_attempts" ("last_attempt_at");--> statement-breakpoint
CREATE INDEX "inbox_handled_at_idx" ON "orders"."inbox" ("handled_at");--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "orders"."outbox" ("published_at") WHERE "published_at" is not null;--> statement-breakpoint
CREATE INDEX "outbox_parked_idx" ON "orders"."outbox" ("id") WHERE "parked_at" is not null;