import { ConfigError } from '@lead-intake/config';
import type { ChannelLeads } from '../types';

/** A channel's `leads` setting: every lead (`all`, the default) or urgent ones only. */
export function leadsSetting(env: Record<string, string | undefined>, name: string): ChannelLeads {
  const v = env[name] || 'all';
  if (v !== 'all' && v !== 'urgent') throw new ConfigError(name, `${name} must be 'all' or 'urgent'`);
  return v;
}
