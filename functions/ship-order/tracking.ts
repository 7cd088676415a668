import { randomInt } from 'node:crypto';

/** The simulated carrier every shipment goes with. */
export const CARRIER = 'SIM-POST';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A fresh tracking id: `TRK-` and 12 upper-case alphanumerics (36^12 ≈ 4.7e18 values). */
export function newTrackingId(): string {
  let id = 'TRK-';
  for (let i = 0; i < 12; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}
