export {
  loadShopProfile,
  validateShopProfile,
  ShopProfileError,
  WEEKDAYS,
  DEFAULT_DROP_OFF_TIMES,
  type ShopProfile,
  type Period,
  type Weekday,
} from './profile';
export { computeShopState, openPeriods, periodsOn, SEARCH_DAYS, type OpenPeriod, type ShopState } from './state';
export { shopState, type ShopStateContext, type ShopStateOptions } from './middleware';
