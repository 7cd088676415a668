import { describe, expect, it } from 'vitest';
import { newTrackingId } from './tracking.ts';

describe('newTrackingId', () => {
  it('is TRK- and 12 upper-case alphanumerics, different each time', () => {
    const ids = Array.from({ length: 200 }, newTrackingId);
    for (const id of ids) expect(id).toMatch(/^TRK-[A-Z0-9]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
