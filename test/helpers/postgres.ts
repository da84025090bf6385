/** Thin test wrapper: one throwaway PostgreSQL per test file (start in beforeAll, stop in afterAll). */
export { startPostgres, type LocalPostgres } from '../../tools/local/postgres';
