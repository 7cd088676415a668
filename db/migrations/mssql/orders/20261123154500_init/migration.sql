CREATE SCHEMA [orders];
--> statement-breakpoint
CREATE TABLE [orders].[idempotency_keys] (
	[key] nvarchar(255) collate Latin1_General_100_BIN2,
	[request_hash] nvarchar(128) NOT NULL,
	[order_id] nvarchar(64) collate Latin1_General_100_BIN2 NOT NULL,
	[created_at] datetime2(3) NOT NULL CONSTRAINT [idempotency_keys_created_at_default] DEFAULT (sysutcdatetime()),
	CONSTRAINT [idempotency_keys_pkey] PRIMARY KEY([key])
);
--> statement-breakpoint
CREATE TABLE [orders].[notifications] (
	[id] uniqueidentifier,
	[order_id] nvarchar(64) collate Latin1_General_100_BIN2 NOT NULL,
	[kind] varchar(32) NOT NULL,
	[channel] nvarchar(32) NOT NULL,
	[message] nvarchar(max) NOT NULL,
	[created_at] datetime2(3) NOT NULL CONSTRAINT [notifications_created_at_default] DEFAULT (sysutcdatetime()),
	CONSTRAINT [notifications_pkey] PRIMARY KEY([id]),
	CONSTRAINT [notifications_order_kind_key] UNIQUE([order_id],[kind]),
	CONSTRAINT [notifications_kind_values] CHECK ([kind] collate Latin1_General_100_BIN2 in ('payment-failed'))
);
--> statement-breakpoint
CREATE TABLE [orders].[orders] (
	[id] nvarchar(64) collate Latin1_General_100_BIN2,
	[amount_minor] bigint NOT NULL,
	[currency] char(3) NOT NULL,
	[status] varchar(16) NOT NULL CONSTRAINT [orders_status_default] DEFAULT ('PENDING'),
	[payment_status] varchar(16) NOT NULL CONSTRAINT [orders_payment_status_default] DEFAULT ('NOT_PAID'),
	[failure_reason] nvarchar(max),
	[created_at] datetime2(3) NOT NULL CONSTRAINT [orders_created_at_default] DEFAULT (sysutcdatetime()),
	[updated_at] datetime2(3) NOT NULL CONSTRAINT [orders_updated_at_default] DEFAULT (sysutcdatetime()),
	CONSTRAINT [orders_pkey] PRIMARY KEY([id]),
	CONSTRAINT [orders_amount_positive] CHECK ([amount_minor] > 0),
	CONSTRAINT [orders_currency_code] CHECK ([currency] collate Latin1_General_100_BIN2 like '[A-Z][A-Z][A-Z]'),
	CONSTRAINT [orders_status_values] CHECK ([status] collate Latin1_General_100_BIN2 in ('PENDING', 'CONFIRMED', 'SHIPPED', 'CANCELLED')),
	CONSTRAINT [orders_payment_status_values] CHECK ([payment_status] collate Latin1_General_100_BIN2 in ('NOT_PAID', 'PAID', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE [orders].[inbox] (
	[consumer] nvarchar(255) collate Latin1_General_100_BIN2,
	[event_id] uniqueidentifier,
	[handled_at] datetime2(3) NOT NULL CONSTRAINT [inbox_handled_at_default] DEFAULT (sysutcdatetime()),
	CONSTRAINT [inbox_pkey] PRIMARY KEY([consumer],[event_id])
);
--> statement-breakpoint
CREATE TABLE [orders].[outbox] (
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
CREATE TABLE [orders].[shipments] (
	[order_id] nvarchar(64) collate Latin1_General_100_BIN2,
	[tracking_id] nvarchar(128) collate Latin1_General_100_BIN2 NOT NULL,
	[carrier] nvarchar(64) NOT NULL,
	[shipped_at] datetime2(3) NOT NULL,
	CONSTRAINT [shipments_pkey] PRIMARY KEY([order_id]),
	CONSTRAINT [shipments_tracking_id_key] UNIQUE([tracking_id])
);
--> statement-breakpoint
ALTER TABLE [orders].[notifications] ADD CONSTRAINT [notifications_order_id_orders_id_fk] FOREIGN KEY ([order_id]) REFERENCES [orders].[orders]([id]);--> statement-breakpoint
ALTER TABLE [orders].[shipments] ADD CONSTRAINT [shipments_order_id_orders_id_fk] FOREIGN KEY ([order_id]) REFERENCES [orders].[orders]([id]);--> statement-breakpoint
CREATE INDEX [outbox_unpublished_idx] ON [orders].[outbox] ([id]) WHERE [published_at] is null;--> statement-breakpoint
CREATE INDEX [outbox_unpublished_key_idx] ON [orders].[outbox] ([key],[id]) WHERE [published_at] is null;