/** Free loopback ports for servers started by tests (one implementation, in tools/local/ports.ts). */
export { freePort } from '../../tools/local/ports';
