CREATE INDEX [consumer_attempts_last_attempt_at_idx] ON [payments].[consumer_attempts] ([last_attempt_at]);--> statement-breakpoint
CREATE INDEX [inbox_handled_at_idx] ON [payments].[inbox] ([handled_at]);--> statement-breakpoint
CREATE INDEX [outbox_published_at_idx] ON [payments].[outbox] ([published_at]) WHERE [published_at] is not null;--> statement-breakpoint
CREATE INDEX [outbox_parked_idx] ON [payments].[outbox] ([id]) WHERE [parked_at] is not null;