/** Thin test wrapper: one throwaway Prometheus per test file (start in beforeAll, stop in afterAll). */
export { startPrometheus, type LocalPrometheus } from '../../tools/local/prometheus';
