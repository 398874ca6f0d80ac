const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const FILE = join(__dirname, '..', '..', 'stages.config.json');
const STAGE_NAME = /^[a-z][a-z0-9-]{0,15}$/;
const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;

/** Settings for one stage: defaults, overridden key by key by the stage's own entry. */
function resolveStage(stage, file = FILE) {
  if (!STAGE_NAME.test(String(stage))) {
    throw new Error(
      `stage '${stage}' is not a valid stage name (lower-case letters, digits and '-', starting with a letter, at most 16 characters)`,
    );
  }
  const all = JSON.parse(readFileSync(file, 'utf8'));
  const settings = { ...all.defaults, ...((all.stages || {})[stage] || {}) };
  const origins = settings.allowedOrigins;
  if (!Array.isArray(origins) || origins.length === 0)
    throw new Error(`stages.config.json: allowedOrigins for stage '${stage}' must be a non-empty list`);
  for (const o of origins) {
    if (typeof o !== 'string' || !ORIGIN.test(o))
      throw new Error(
        `stages.config.json: allowedOrigins for stage '${stage}' has an invalid origin '${o}' (scheme://host[:port], no path)`,
      );
  }
  if (settings.chatkitMode !== 'hosted' && settings.chatkitMode !== 'self-hosted') {
    throw new Error(
      `stages.config.json: chatkitMode for stage '${stage}' must be 'self-hosted' (the default) or 'hosted' (legacy, ends 2026-11-30)`,
    );
  }
  for (const [key, min, max] of [
    ['chatTurnsPerMinute', 1, 100000],
    ['newUsersPerSourceIpPerHour', 1, 100000],
    ['chatDailyModelCalls', 1, 10000000],
    ['chatRetentionDays', 1, 3650],
  ]) {
    const v = settings[key];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new Error(`stages.config.json: ${key} for stage '${stage}' must be an integer from ${min} to ${max}`);
  }
  return {
    ...settings,
    stage,
    allowedOriginsCsv: origins.join(','),
    // Deployed stages read secrets from SSM under this path; `secretsFromEnvironment` stages
    // (local development) read them from environment variables instead.
    secretsSsmPath: settings.secretsFromEnvironment ? '' : `/chatkit-lead-intake/${stage}/`,
    // The self-hosted chat's thread table: the chat service owns it, the lead service reads it.
    chatThreadsTable: `chatkit-lead-intake-chat-${stage}-threads`,
    // Usage counters (turns per user, new users per source IP, model calls per day): the chat
    // service owns the table, the session service counts new users in it.
    chatLimitsTable: `chatkit-lead-intake-chat-${stage}-limits`,
  };
}

module.exports = { resolveStage };
