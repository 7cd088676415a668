/**
 * Test support for the PostgreSQL dialect: a migrated PGlite per test file, and scratch databases on a server.
 * @module
 */
export { createScratchDatabase, type ScratchDatabase } from './scratch-database.ts';
export { createTestDatabase, type TestDatabase, truncateServiceTables } from './test-database.ts';
