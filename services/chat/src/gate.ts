import type { GateVerdict, TurnGate } from '@lead-intake/chat-server';
import type { Metrics } from '@lead-intake/observability';
import { MetricUnit } from '@lead-intake/observability';
import type { DailyBudget, UsageLimits } from '@lead-intake/usage-limits';

export interface UsageGateOptions {
  limits: UsageLimits;
  budget: DailyBudget;
  turnsPerMinute: number;
  dailyModelCalls: number;
  /** The share of the day's model calls one source network may use, per day and per hour (percent). */
  networkDailySharePercent: number;
  networkHourlySharePercent: number;
  shopPhone: string;
  metrics?: Metrics;
}

/**
 * The assistant's fixed answer when the model cannot answer (a refusal for the model's sake, an
 * upstream failure): honest, and the customer's message is kept for the shop.
 */
export const keptAnswer = (shopPhone: string) =>
  `Thanks, we got your message. Our assistant can't answer right now; the shop will get back to you ` +
  `if you left a phone number or email. You can also call the shop at ${shopPhone}.`;

/** A network's turns per window: its share of the day's ceiling, at least one. */
export const networkLimits = (o: Pick<UsageGateOptions, 'dailyModelCalls' | 'networkDailySharePercent' | 'networkHourlySharePercent'>) => ({
  day: Math.max(1, Math.floor((o.dailyModelCalls * o.networkDailySharePercent) / 100)),
  hour: Math.max(1, Math.floor((o.dailyModelCalls * o.networkHourlySharePercent) / 100)),
});

/**
 * Every model turn passes three bounds, checked as the customer's message is stored (the model
 * asked beside them when the instance expects an admission: chat-server's turn.ts): the user's turns this
 * minute, the source network's share of the day's model calls (per day and per hour, both on one
 * row), each a DynamoDB counter shared by every instance (one conditional write each, sent together), and the
 * stage's model calls today (UTC; reserved from a shared counter in blocks, so most turns do not
 * write it). A user over their own rate is asked to wait and nothing is written. A turn refused for
 * the model's sake (its network's share spent, or the day's ceiling) keeps what the customer wrote
 * and answers it with a fixed, honest message: one network flooding the chat can spend its share
 * only, and never loses another customer's message or contact. A refused turn spends no bound.
 * Each admitted turn reports how much of the day's budget is reserved (`ModelBudgetUsedPercent`).
 */
/** Users (and networks) an instance remembers for `expects`, newest kept. */
const SEEN_KEPT = 5000;

export function usageGate(o: UsageGateOptions): TurnGate {
  const perUser = (user: string) => ({ key: `turn#${user}`, limit: o.turnsPerMinute, windowSeconds: 60 });
  const share = networkLimits(o);
  // The network's day and hour on one row: both bounds in one conditional write.
  const perNetwork = (network: string) => ({
    key: `net#${network}`,
    limit: share.day,
    windowSeconds: 86400,
    within: { limit: share.hour, windowSeconds: 3600 },
  });
  const counters = (user: string, network?: string) => [perUser(user), ...(network ? [perNetwork(network)] : [])];
  const kept = keptAnswer(o.shopPhone);
  // What this instance saw, to expect an admission without a round trip (the counters are shared,
  // so this only undercounts: it never expects a refusal that would not come).
  const seen = new Map<string, { minute: number; turns: number }>(); // user -> admitted turns this minute
  const refusedNetworks = new Map<string, number>(); // network -> when its share was last refused
  const remember = <V>(m: Map<string, V>, k: string, v: V) => {
    m.delete(k);
    m.set(k, v);
    if (m.size > SEEN_KEPT) m.delete(m.keys().next().value!);
  };
  const minute = () => Math.floor(Date.now() / 60_000);
  const decide = async (user: string, network?: string): Promise<GateVerdict> => {
    const [rate, day] = await Promise.allSettled([o.limits.take(counters(user, network)), o.budget.take()]);
    const rateOk = rate.status === 'fulfilled' && rate.value.ok;
    const dayOk = day.status === 'fulfilled' && day.value.ok;
    // All or nothing: what one bound took is given back when the other refuses (or failed).
    if (!rateOk && dayOk) o.budget.giveBack();
    if (rateOk && !dayOk) await Promise.all(counters(user, network).map((c) => o.limits.refund(c)));
    if (rate.status === 'rejected') throw rate.reason;
    if (day.status === 'rejected') throw day.reason;
    if (!rate.value.ok) {
      if (rate.value.refused > 0) return { ok: false, reason: 'network_share', message: kept, keep: true };
      return {
        ok: false,
        reason: 'user_rate',
        message: `You are sending messages faster than we can answer. Please wait ${rate.value.retryAfterSeconds} seconds and try again.`,
      };
    }
    if (!day.value.ok) return { ok: false, reason: 'daily_ceiling', message: kept, keep: true };
    o.metrics?.addMetric('ModelBudgetUsedPercent', MetricUnit.Percent, Math.round((day.value.used / o.dailyModelCalls) * 1000) / 10);
    return { ok: true };
  };
  return {
    expects(user: string, network?: string): boolean {
      if (!o.budget.hasBlock()) return false;
      const mine = seen.get(user);
      if (mine && mine.minute === minute() && mine.turns >= o.turnsPerMinute) return false;
      const refused = network === undefined ? undefined : refusedNetworks.get(network);
      return refused === undefined || Date.now() - refused > 3_600_000;
    },
    async admit(user: string, network?: string): Promise<GateVerdict> {
      const verdict = await decide(user, network);
      if (verdict.ok) {
        const m = minute();
        const mine = seen.get(user);
        remember(seen, user, { minute: m, turns: mine?.minute === m ? mine.turns + 1 : 1 });
      } else if (verdict.reason === 'user_rate') remember(seen, user, { minute: minute(), turns: o.turnsPerMinute });
      else if (verdict.reason === 'network_share' && network) remember(refusedNetworks, network, Date.now());
      return verdict;
    },
    async refund(user: string, network?: string): Promise<void> {
      o.budget.giveBack();
      await Promise.all(counters(user, network).map((c) => o.limits.refund(c)));
    },
  };
}

/** The block a chat instance reserves from the day's model calls: 1% of the ceiling, from 1 to 20. */
export const budgetBlock = (ceiling: number) => Math.max(1, Math.min(20, Math.floor(ceiling / 100)));
