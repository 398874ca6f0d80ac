import type { GateVerdict, TurnGate } from '@lead-intake/chat-server';
import type { Metrics } from '@lead-intake/observability';
import { MetricUnit } from '@lead-intake/observability';
import type { UsageLimits } from '@lead-intake/usage-limits';

export interface UsageGateOptions {
  limits: UsageLimits;
  turnsPerMinute: number;
  dailyModelCalls: number;
  shopPhone: string;
  metrics?: Metrics;
}

/**
 * Every model turn passes two counters (one DynamoDB round trip, run beside the thread read):
 * the user's turns this minute, and the stage's model calls today (UTC). A user over their rate
 * is asked to wait; past the daily ceiling the chat "rests" until midnight UTC, so a bot minting
 * users in a loop cannot run up the OpenAI bill. Each admitted turn reports how much of the day's
 * budget is used (`ModelBudgetUsedPercent`; the deploy alarms at 80).
 */
export function usageGate(o: UsageGateOptions): TurnGate {
  return {
    async admit(user: string): Promise<GateVerdict> {
      const taken = await o.limits.take([
        { key: `turn#${user}`, limit: o.turnsPerMinute, windowSeconds: 60 },
        { key: 'model#day', limit: o.dailyModelCalls, windowSeconds: 86400 },
      ]);
      if (taken.ok) {
        o.metrics?.addMetric('ModelBudgetUsedPercent', MetricUnit.Percent, Math.round((taken.counts[1]! / o.dailyModelCalls) * 1000) / 10);
        return { ok: true };
      }
      if (taken.refused === 0) {
        return { ok: false, reason: 'user_rate', message: `You are sending messages faster than we can answer. Please wait ${taken.retryAfterSeconds} seconds and try again.` };
      }
      return { ok: false, reason: 'daily_ceiling', message: `The chat is resting for today. Please call the shop at ${o.shopPhone}, or come back tomorrow.` };
    },
  };
}
