/** Order lifecycle values shared by the API, the store and the events' consumers. */

/** `PENDING → CONFIRMED → SHIPPED`, or `PENDING → CANCELLED`. Only ever moves forward. */
export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'SHIPPED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** `NOT_PAID → PAID` or `NOT_PAID → FAILED`. */
export const PAYMENT_STATUSES = ['NOT_PAID', 'PAID', 'FAILED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
