import { z } from 'zod';

/** Order ids are client-chosen or generated: 1–64 of `[A-Za-z0-9_-]`. */
export const orderIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');

export type OrderId = z.infer<typeof orderIdSchema>;
