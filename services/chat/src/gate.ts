import type { GateVerdict, TurnGate } from '@lead-intake/chat-server';
import type { Metrics } from '@lead-intake/observability';
import { MetricUnit } from '@lead-intake/observability';
import type { DailyBudget, UsageLimits } from '@lead-intake/usage-limits';

export interface UsageGateOptions {
  limits: UsageLimits;
  budget: DailyBudget;
  turnsPerMinute: number;
  dailyModelCalls: number;
  shopPhone: string;
  metrics?: Metrics;
}

/**
 * Every model turn passes two bounds, checked beside the thread read: the user's turns this
 * minute (a DynamoDB counter shared by every instance, one conditional write per turn), and the
 * stage's model calls today (UTC; reserved from a shared counter in blocks, so most turns do not
 * write it). A user over their rate is asked to wait; past the daily ceiling the chat "rests"
 * until midnight UTC, so a bot minting users in a loop cannot run up the OpenAI bill. A refused
 * turn spends neither bound. Each admitted turn reports how much of the day's budget is reserved
 * (`ModelBudgetUsedPercent`; the deploy alarms at 80).
 */
export function usageGate(o: UsageGateOptions): TurnGate {
  const perUser = (user: string) => ({ key: `turn#${user}`, limit: o.turnsPerMinute, windowSeconds: 60 });
  return {
    async admit(user: string): Promise<GateVerdict> {
      const [rate, day] = await Promise.allSettled([o.limits.take([perUser(user)]), o.budget.take()]);
      const rateOk = rate.status === 'fulfilled' && rate.value.ok;
      const dayOk = day.status === 'fulfilled' && day.value.ok;
      // All or nothing: what one bound took is given back when the other refuses (or failed).
      if (!rateOk && dayOk) o.budget.giveBack();
      if (rateOk && !dayOk) await o.limits.refund(perUser(user));
      if (rate.status === 'rejected') throw rate.reason;
      if (day.status === 'rejected') throw day.reason;
      if (!rate.value.ok) {
        return {
          ok: false,
          reason: 'user_rate',
          message: `You are sending messages faster than we can answer. Please wait ${rate.value.retryAfterSeconds} seconds and try again.`,
        };
      }
      if (!day.value.ok)
        return {
          ok: false,
          reason: 'daily_ceiling',
          message: `The chat is resting for today. Please call the shop at ${o.shopPhone}, or come back tomorrow.`,
        };
      o.metrics?.addMetric('ModelBudgetUsedPercent', MetricUnit.Percent, Math.round((day.value.used / o.dailyModelCalls) * 1000) / 10);
      return { ok: true };
    },
    async refund(user: string): Promise<void> {
      o.budget.giveBack();
      await o.limits.refund(perUser(user));
    },
  };
}

/** The block a chat instance reserves from the day's model calls: 1% of the ceiling, from 1 to 20. */
export const budgetBlock = (ceiling: number) => Math.max(1, Math.min(20, Math.floor(ceiling / 100)));
