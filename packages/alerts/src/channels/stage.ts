import { CHANNELS, type ChannelModule, type StageFacts } from './registry';

/**
 * Package time (`tooling/stage-config/resolve.cjs` loads this file): a stage's `alerts` in
 * stages.config.json as the lead functions' variables, checked with each channel's own rules: its
 * `stageVariables` (what only the stage decides) and then its `settings`, the rule the functions
 * run at cold start. A channel the stage does not configure has every variable empty (off).
 */
export function channelsFromStage(
  alerts: unknown,
  stage: StageFacts,
  channels: readonly ChannelModule<any>[] = CHANNELS,
): { env: Record<string, string>; secrets: string[] } {
  const where = `stages.config.json: alerts for stage '${stage.name}'`;
  const entries = alerts ?? {};
  if (typeof entries !== 'object' || Array.isArray(entries)) throw new Error(`${where} must be an object`);
  const names = channels.map((c) => c.name);
  const unknown = Object.keys(entries).filter((k) => k !== '$comment' && !names.includes(k));
  if (unknown.length) throw new Error(`${where} has unknown channels (${unknown.join(', ')}): ${names.join(', ')}`);
  const env: Record<string, string> = {};
  for (const channel of channels) {
    const entry = (entries as Record<string, unknown>)[channel.name];
    const off = Object.fromEntries(channel.variables.map((v) => [v, '']));
    if (entry === undefined || entry === null || entry === false) {
      Object.assign(env, off);
      continue;
    }
    if (typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`${where}: ${channel.name} must be an object`);
    try {
      const vars = { ...off, ...channel.stageVariables(entry as Record<string, unknown>, stage) };
      channel.settings(vars);
      Object.assign(env, vars);
    } catch (e) {
      throw new Error(`${where}: ${channel.name}: ${(e as Error).message}`);
    }
  }
  return { env, secrets: channels.flatMap((c) => c.secrets ?? []) };
}
