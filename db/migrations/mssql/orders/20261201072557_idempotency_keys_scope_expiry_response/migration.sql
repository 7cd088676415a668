-- Idempotency keys get a scope (client, route), the first answer as sent, and an expiry.
-- Keys written before this were unscoped and stored no answer: each is kept for both routes it may have
-- come from (POST /orders and POST /order), without an answer (create-order replays those as it did then),
-- and lives 24 h (the default window) from its creation.
ALTER TABLE [orders].[idempotency_keys] DROP CONSTRAINT [idempotency_keys_pkey];--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] ADD [client_id] nvarchar(128) collate Latin1_General_100_BIN2 NOT NULL CONSTRAINT [idempotency_keys_client_id_default] DEFAULT ('');--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] ADD [route] nvarchar(64) collate Latin1_General_100_BIN2 NOT NULL CONSTRAINT [idempotency_keys_route_migrated] DEFAULT (N'POST /orders');--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] DROP CONSTRAINT [idempotency_keys_route_migrated];--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] ADD [response_status] int;--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] ADD [response_body] nvarchar(max);--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] ADD [expires_at] datetime2(3) NULL;--> statement-breakpoint
UPDATE [orders].[idempotency_keys] SET [expires_at] = dateadd(hour, 24, [created_at]);--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] ALTER COLUMN [expires_at] datetime2(3) NOT NULL;--> statement-breakpoint
ALTER TABLE [orders].[idempotency_keys] ADD CONSTRAINT [idempotency_keys_pkey] PRIMARY KEY ([client_id],[route],[key]);--> statement-breakpoint
INSERT INTO [orders].[idempotency_keys] ([client_id], [route], [key], [request_hash], [order_id], [created_at], [expires_at])
  SELECT [client_id], N'POST /order', [key], [request_hash], [order_id], [created_at], [expires_at]
  FROM [orders].[idempotency_keys] WHERE [route] = N'POST /orders';--> statement-breakpoint
CREATE INDEX [idempotency_keys_expires_at_idx] ON [orders].[idempotency_keys] ([expires_at]);
