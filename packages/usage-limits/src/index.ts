export { UsageLimits, type Counter, type TakeResult } from './limits';
