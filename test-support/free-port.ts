export { freePort } from '../services/runtime/src/free-port';
