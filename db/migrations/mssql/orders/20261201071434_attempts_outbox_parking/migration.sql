CREATE TABLE [orders].[consumer_attempts] (
	[consumer] nvarchar(255) collate Latin1_General_100_BIN2,
	[event_id] uniqueidentifier,
	[attempts] int NOT NULL CONSTRAINT [consumer_attempts_attempts_default] DEFAULT ((0)),
	[last_error] nvarchar(max),
	[first_attempt_at] datetime2(3) NOT NULL CONSTRAINT [consumer_attempts_first_attempt_at_default] DEFAULT (sysutcdatetime()),
	[last_attempt_at] datetime2(3) NOT NULL CONSTRAINT [consumer_attempts_last_attempt_at_default] DEFAULT (sysutcdatetime()),
	CONSTRAINT [consumer_attempts_pkey] PRIMARY KEY([consumer],[event_id])
);
--> statement-breakpoint
ALTER TABLE [orders].[outbox] ADD [failures] int NOT NULL CONSTRAINT [outbox_failures_default] DEFAULT ((0));--> statement-breakpoint
ALTER TABLE [orders].[outbox] ADD [last_error] nvarchar(max);--> statement-breakpoint
ALTER TABLE [orders].[outbox] ADD [parked_at] datetime2(3);--> statement-breakpoint
ALTER TABLE [orders].[outbox] ADD [lease_owner] varchar(64);