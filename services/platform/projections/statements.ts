// Prepared statements for queries, made once per database handle: a projection
// swapped by a rebuild gets its own set, and nothing is prepared per request.
import type Database from 'better-sqlite3';

export function perDatabase<T>(prepare: (db: Database.Database) => T): (db: Database.Database) => T {
  const cache = new WeakMap<Database.Database, T>();
  return (db) => {
    let value = cache.get(db);
    if (!value) {
      value = prepare(db);
      cache.set(db, value);
    }
    return value;
  };
}
