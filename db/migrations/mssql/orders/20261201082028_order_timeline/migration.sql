CREATE TABLE [orders].[order_timeline] (
	[id] bigint IDENTITY(1, 1),
	[order_id] nvarchar(64) collate Latin1_General_100_BIN2 NOT NULL,
	[at] datetime2(3) NOT NULL,
	[entry] nvarchar(max) NOT NULL,
	CONSTRAINT [order_timeline_pkey] PRIMARY KEY([id])
);
--> statement-breakpoint
CREATE INDEX [order_timeline_order_at_idx] ON [orders].[order_timeline] ([order_id],[at]);