export { loadShopProfile, validateShopProfile, ShopProfileError, WEEKDAYS, type ShopProfile, type Period, type Weekday } from './profile';
export { computeShopState, periodsOn, SEARCH_DAYS, type ShopState } from './state';
export { shopState, type ShopStateContext, type ShopStateOptions } from './middleware';
