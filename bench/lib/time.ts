/**
 * Wall-clock time with sub-millisecond resolution, comparable between processes on one machine
 * (both sides derive it from the same system clock).
 * @module
 */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
