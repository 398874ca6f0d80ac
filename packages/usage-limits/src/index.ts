export { UsageLimits, type Counter, type TakeResult } from './limits';
export { DailyBudget } from './budget';
export { networkOf } from './network';
