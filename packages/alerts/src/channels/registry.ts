import type { ChannelLeads, LeadAlert } from '../types';
import { smsChannel } from './sms';
import { webhookChannel } from './webhook';

type Env = Record<string, string | undefined>;

/** What a channel's deliveries may use beyond its settings and the lead. */
export interface ChannelContext {
  /** The lead's ledger record: when it was created and the operator's resends so far (they name this lead, e.g. a webhook id). */
  record: { createdAt: number; resendSeq: number };
  /** A stage secret by name (SSM when deployed, the environment locally), read when first needed. */
  secret(name: string): Promise<string>;
}

/** One delivery: its ledger key (the channel's name, or `<name>_<suffix>` for one of several) and its send, answering an id. */
export interface ChannelDelivery {
  key: string;
  send(): Promise<string>;
}

/**
 * An owner channel beside the email, as one module: its name (the ledger's delivery keys and
 * `npm run lead -- resend --channel <name>` use it), its stage settings read from the lead
 * functions' environment (null: off on this stage; a bad value throws a ConfigError naming the
 * variable, at cold start), which leads it takes, and its deliveries for one lead. Each delivery
 * is sent at most once per lead: the pipeline records it on the ledger as it goes out, and a retry
 * sends only what is missing.
 */
export interface ChannelModule<S extends { leads: ChannelLeads } = { leads: ChannelLeads }> {
  readonly name: string;
  /** The variables it reads (docs, and the lead settings' test against the deploy). */
  readonly variables: readonly string[];
  /** The stage secrets its deliveries ask for (`ctx.secret`): SSM SecureStrings when deployed, variables locally. */
  readonly secrets?: readonly string[];
  /**
   * Package time: this channel's entry of stages.config.json `alerts` as its variables (the deploy
   * sets them on the lead functions). Checks only what the stage decides (a deployed stage's target
   * not on this machine); every value rule is `settings()`'s, which the stage resolver runs on the
   * result: one rule, at package time and at cold start (./stage.ts).
   */
  stageVariables(entry: Record<string, unknown>, stage: StageFacts): Record<string, string>;
  settings(env: Env): S | null;
  /**
   * Whether it carries updates to a lead already sent (a callback requested afterwards: `alert.update`).
   * Off unless said: a receiver built for leads would take an update for a new lead.
   */
  readonly updates?: boolean;
  deliveries(settings: S, alert: LeadAlert, ctx: ChannelContext): ChannelDelivery[];
}

/** What a channel's package-time rule may know of the stage. */
export interface StageFacts {
  name: string;
  /** Deployed (AWS), not a local stage (local, bench): browsers and receivers are on the internet. */
  deployed: boolean;
}

/** A channel as configured on this stage. */
export interface ConfiguredChannel {
  channel: ChannelModule<any>;
  settings: { leads: ChannelLeads };
}

/** The channels the product ships, beside the email (which is always on). Adding one: a module in this folder, listed here. */
export const CHANNELS: readonly ChannelModule<any>[] = [smsChannel, webhookChannel];

/** Every channel's name, the email first. */
export const channelNames = (channels: readonly ChannelModule<any>[] = CHANNELS): string[] => ['email', ...channels.map((c) => c.name)];

/** The channels this stage has on (their settings read and checked now). */
export function configuredChannels(env: Env, channels: readonly ChannelModule<any>[] = CHANNELS): ConfiguredChannel[] {
  return channels.flatMap((channel) => {
    const settings = channel.settings(env);
    return settings ? [{ channel, settings }] : [];
  });
}

/** Locally (no SSM): the channels' secrets from the environment. */
export function channelSecretsFromEnv(env: Env, channels: readonly ChannelModule<any>[] = CHANNELS): Record<string, string | undefined> {
  return Object.fromEntries(channels.flatMap((c) => c.secrets ?? []).map((n) => [n, env[n]]));
}

/** Whether a channel takes this alert: an update only if it carries updates; a lead if it takes every lead, or this urgent one. */
export const takesAlert = (c: ConfiguredChannel, alert: Pick<LeadAlert, 'urgent' | 'update'>): boolean =>
  alert.update ? c.channel.updates === true : takesLead(c.settings.leads, alert);

/** Whether a channel takes this lead: every lead, or urgent ones only. */
export const takesLead = (leads: ChannelLeads, alert: Pick<LeadAlert, 'urgent'>): boolean => leads === 'all' || alert.urgent;

/** The ledger delivery keys of a channel among a record's (`sms` has one per owner phone: `sms_<hash>`). */
export const keysOf = (channel: string, keys: string[]): string[] => keys.filter((k) => k === channel || k.startsWith(`${channel}_`));
