CREATE SCHEMA [payments];
--> statement-breakpoint
CREATE TABLE [payments].[payments] (
	[id] uniqueidentifier,
	[order_id] nvarchar(64) collate Latin1_General_100_BIN2 NOT NULL,
	[amount_minor] bigint NOT NULL,
	[currency] char(3) NOT NULL,
	[status] varchar(16) NOT NULL,
	[failure_reason] nvarchar(max),
	[provider_ref] nvarchar(255),
	[created_at] datetime2(3) NOT NULL CONSTRAINT [payments_created_at_default] DEFAULT (sysutcdatetime()),
	CONSTRAINT [payments_pkey] PRIMARY KEY([id]),
	CONSTRAINT [payments_order_id_key] UNIQUE([order_id]),
	CONSTRAINT [payments_amount_positive] CHECK ([amount_minor] > 0),
	CONSTRAINT [payments_currency_code] CHECK ([currency] collate Latin1_General_100_BIN2 like '[A-Z][A-Z][A-Z]'),
	CONSTRAINT [payments_status_values] CHECK ([status] collate Latin1_General_100_BIN2 in ('COMPLETED', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE [payments].[inbox] (
	[consumer] nvarchar(255) collate Latin1_General_100_BIN2,
	[event_id] uniqueidentifier,
	[handled_at] datetime2(3) NOT NULL CONSTRAINT [inbox_handled_at_default] DEFAULT (sysutcdatetime()),
	CONSTRAINT [inbox_pkey] PRIMARY KEY([consumer],[event_id])
);
--> statement-breakpoint
CREATE TABLE [payments].[outbox] (
	[id] bigint IDENTITY(1, 1),
	[event_id] uniqueidentifier NOT NULL,
	[topic] varchar(255) NOT NULL,
	[key] nvarchar(255) NOT NULL,
	[value] nvarchar(max) NOT NULL,
	[headers] nvarchar(max) NOT NULL CONSTRAINT [outbox_headers_default] DEFAULT ('{}'),
	[created_at] datetime2(3) NOT NULL CONSTRAINT [outbox_created_at_default] DEFAULT (sysutcdatetime()),
	[published_at] datetime2(3),
	[lease_until] datetime2(3),
	[attempts] int NOT NULL CONSTRAINT [outbox_attempts_default] DEFAULT ((0)),
	CONSTRAINT [outbox_pkey] PRIMARY KEY([id]),
	CONSTRAINT [outbox_event_id_key] UNIQUE([event_id])
);
--> statement-breakpoint
CREATE INDEX [outbox_unpublished_idx] ON [payments].[outbox] ([id]) WHERE [published_at] is null;--> statement-breakpoint
CREATE INDEX [outbox_unpublished_key_idx] ON [payments].[outbox] ([key],[id]) WHERE [published_at] is null;