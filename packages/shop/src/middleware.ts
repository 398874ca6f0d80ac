import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadShopProfile, type ShopProfile } from './profile';
import { computeShopState, type ShopState } from './state';

export interface ShopStateContext extends Context {
  shopState: ShopState;
  shopProfile: ShopProfile;
}

export interface ShopStateOptions {
  profile?: ShopProfile;
  /** The clock; injectable so tests can freeze it. */
  now?: () => Date;
}

/** Computes the shop's state once per request into `request.context.shopState`. */
export function shopState(opts: ShopStateOptions = {}): MiddlewareObj<unknown, unknown, Error, ShopStateContext> {
  const now = opts.now ?? (() => new Date());
  return {
    before: function shopStateBefore(request) {
      const profile = opts.profile ?? loadShopProfile();
      request.context.shopProfile = profile;
      request.context.shopState = computeShopState(now(), profile);
    },
  };
}
