/**
 * Batch forms of repository methods (`BATCHED` in runtime/store.ts): one statement for the calls that wait
 * together in a group commit or a consumer batch, each call answered as it would have been one after another.
 * @module
 */
import { mustExist } from './store-base.ts';

/**
 * Inserts `batch` in one `INSERT … ON CONFLICT DO NOTHING RETURNING` and answers each item as a single insert
 * after the ones before it would have: the first of a repeated key creates the row, a later one — or a key
 * that was there already — finds it (read back in one more statement, only when there is such a key).
 */
export async function insertedOrFound<Item, Row>(
  batch: readonly Item[],
  options: {
    what: string;
    keyOf: (item: Item) => string;
    rowKey: (row: Row) => string;
    insert: (items: readonly Item[]) => Promise<Row[]>;
    find: (keys: readonly string[]) => Promise<Row[]>;
  },
): Promise<{ created: boolean; row: Row }[]> {
  const won = new Map((await options.insert(batch)).map((row) => [options.rowKey(row), row]));
  const missing = [...new Set(batch.map(options.keyOf).filter((key) => !won.has(key)))];
  const existing = new Map(
    missing.length === 0 ? [] : (await options.find(missing)).map((row) => [options.rowKey(row), row]),
  );
  const claimed = new Set<string>();
  return batch.map((item) => {
    const key = options.keyOf(item);
    const row = won.get(key);
    if (row !== undefined && !claimed.has(key)) {
      claimed.add(key);
      return { created: true, row };
    }
    return { created: false, row: mustExist(row ?? existing.get(key), options.what, key) };
  });
}

/** Answers each key's call from one read of all of them (rows by key; undefined where there is none). */
export async function foundByKey<Row>(
  keys: readonly string[],
  rowKey: (row: Row) => string,
  read: (keys: readonly string[]) => Promise<Row[]>,
): Promise<(Row | undefined)[]> {
  const rows = new Map((await read([...new Set(keys)])).map((row) => [rowKey(row), row]));
  return keys.map((key) => rows.get(key));
}
