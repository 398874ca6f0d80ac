const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const FILE = join(__dirname, '..', '..', 'stages.config.json');
const STAGE_NAME = /^[a-z][a-z0-9-]{0,15}$/;
const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const LOCAL_HOST = /^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0)(:\d+)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The account id of everything local (the local stack, its S3 and SQS stand-ins). */
const LOCAL_ACCOUNT_ID = '000000000000';

/** Settings for one stage: defaults, overridden key by key by the stage's own entry. */
function resolveStage(stage, file = FILE) {
  if (!STAGE_NAME.test(String(stage))) {
    throw new Error(
      `stage '${stage}' is not a valid stage name (lower-case letters, digits and '-', starting with a letter, at most 16 characters)`,
    );
  }
  const all = JSON.parse(readFileSync(file, 'utf8'));
  // An unlisted stage would silently get the defaults, that is prod's settings (its origins, its
  // recipients, its alarms): every stage is named in the file, or refused.
  const known = Object.keys(all.stages || {});
  if (!known.includes(stage))
    throw new Error(
      `stage '${stage}' is not in stages.config.json (known stages: ${known.join(', ')}); add it under "stages" to deploy or run it`,
    );
  const settings = { ...all.defaults, ...((all.stages || {})[stage] || {}) };
  // A stage that reads its secrets from the environment runs on a developer's machine (local,
  // bench). Every other stage is deployed: browsers reach it from the shop's https sites only, and
  // its alarms must reach someone.
  const deployed = !settings.secretsFromEnvironment;
  if (deployed && settings.localOrigins) throw new Error(`stages.config.json: localOrigins are for local stages only, not '${stage}'`);
  const origins = [...(settings.allowedOrigins || []), ...(settings.localOrigins || [])];
  if (!Array.isArray(settings.allowedOrigins) || origins.length === 0)
    throw new Error(`stages.config.json: allowedOrigins for stage '${stage}' must be a non-empty list`);
  for (const o of origins) {
    if (typeof o !== 'string' || !ORIGIN.test(o))
      throw new Error(
        `stages.config.json: allowedOrigins for stage '${stage}' has an invalid origin '${o}' (scheme://host[:port], no path)`,
      );
  }
  if (deployed) {
    const local = origins.filter((o) => !o.startsWith('https://') || LOCAL_HOST.test(o));
    if (local.length)
      throw new Error(
        `stages.config.json: allowedOrigins for the deployed stage '${stage}' must be https and not local ` +
          `(${local.join(', ')}); local origins belong to the local stage`,
      );
    const email = settings.alarmEmail;
    if (email !== 'none' && !(typeof email === 'string' && EMAIL.test(email)))
      throw new Error(
        `stages.config.json: alarmEmail for the deployed stage '${stage}' must be the address that receives its alarms ` +
          `(or "none" to deploy without a subscriber, see docs/runbook.md)`,
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
    ['leadDailySummaries', 1, 10000000],
    ['chatNetworkDailySharePercent', 1, 100],
    ['chatNetworkHourlySharePercent', 1, 100],
    ['chatRetentionDays', 1, 3650],
    ['leadIdleSeconds', 1, 86400],
    ['followUpHours', 1, 24 * 90],
  ]) {
    const v = settings[key];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new Error(`stages.config.json: ${key} for stage '${stage}' must be an integer from ${min} to ${max}`);
  }
  // The sweeper's schedule: a rate, whose interval the sweeper knows (it takes idle evaluations as they come due for most of it).
  const sweeperSchedule = settings.sweeperSchedule ?? 'rate(1 minute)';
  const rate = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(String(sweeperSchedule));
  const sweeperIntervalSeconds = rate ? Number(rate[1]) * (rate[2].startsWith('hour') ? 3600 : 60) : 0;
  if (!rate || sweeperIntervalSeconds < 60 || sweeperIntervalSeconds > 3600)
    throw new Error(
      `stages.config.json: sweeperSchedule for stage '${stage}' must be a rate from 'rate(1 minute)' to 'rate(1 hour)' ` +
        "(the default: 'rate(1 minute)')",
    );
  const att = settings.attachments || {};
  const MIME = /^[a-z]+\/[a-z0-9.+-]+$/;
  if (
    !Number.isInteger(att.maxBytes) ||
    att.maxBytes < 1 ||
    att.maxBytes > 5 * 1024 ** 3 ||
    !Number.isInteger(att.maxPerMessage) ||
    att.maxPerMessage < 1 ||
    att.maxPerMessage > 10 ||
    !Array.isArray(att.types) ||
    !att.types.length ||
    !att.types.every((t) => typeof t === 'string' && MIME.test(t)) ||
    !Number.isInteger(att.linkDays) ||
    att.linkDays < 1 ||
    att.linkDays > 3650
  )
    throw new Error(
      `stages.config.json: attachments for stage '${stage}' needs maxBytes (1 to 5 GiB), maxPerMessage (1 to 10), ` +
        'types (lower-case MIME types) and linkDays (1 to 3650)',
    );
  const alerts = channels().channelsFromStage(settings.alerts, { name: stage, deployed });
  // Who may sign in to the owner's inbox: inbox.owners, or the lead recipients.
  const inbox = settings.inbox || {};
  const given = Array.isArray(inbox.owners) && inbox.owners.length > 0;
  const owners = (given ? inbox.owners : String(settings.leadToEmail || '').split(','))
    .map((o) => String(o).trim().toLowerCase())
    .filter(Boolean);
  if (given && !owners.every((o) => EMAIL.test(o)))
    throw new Error(`stages.config.json: inbox.owners for stage '${stage}' must list email addresses (default: leadToEmail)`);
  const inboxOwners = owners.filter((o) => EMAIL.test(o));
  return {
    ...settings,
    // The owner channels' variables for the lead functions ('' when a channel is off).
    alertsEnv: alerts.env,
    secretArns: secretArns(stage, settings.chatkitMode, alerts.secrets),
    stage,
    sweeperSchedule,
    attachmentTypesCsv: att.types.join(','),
    allowedOrigins: origins,
    allowedOriginsCsv: origins.join(','),
    // Where the alarm topics' email subscription goes ('' for none: local stages, or the opt-out).
    alarmSubscriptionEmail: settings.alarmEmail && settings.alarmEmail !== 'none' ? settings.alarmEmail : '',
    // Deployed stages read secrets from SSM under this path; `secretsFromEnvironment` stages
    // (local development) read them from environment variables instead.
    secretsSsmPath: settings.secretsFromEnvironment ? '' : `/chatkit-lead-intake/${stage}/`,
    // The self-hosted chat's thread table: the chat service owns it, the lead service reads it.
    chatThreadsTable: `chatkit-lead-intake-chat-${stage}-threads`,
    // Customers' files: bucket names are global, so the account id is part of it (a CloudFormation
    // Fn::Sub string; attachmentsBucketFor(settings, accountId) in @lead-intake/stage-config).
    attachmentsBucketSub: 'chatkit-lead-intake-${AWS::AccountId}-' + stage + '-files',
    // The bucket's name where a template needs a value: Fn::Sub when deployed; a literal in the
    // local account on local stages, where \`sls invoke local\` cannot resolve intrinsics.
    attachmentsBucketRef: deployed
      ? { 'Fn::Sub': 'chatkit-lead-intake-${AWS::AccountId}-' + stage + '-files' }
      : 'chatkit-lead-intake-' + LOCAL_ACCOUNT_ID + '-' + stage + '-files',
    // The lead functions' own environment beside the provider's: the files function's URL for
    // their links (when deployed; on local stages a marker the local stack replaces with its local
    // URL, invoke local: no links), and the owner channels' variables, each channel's from its
    // module (packages/alerts/src/channels): adding a channel adds no line to serverless.yml.
    leadFunctionEnv: {
      LEAD_SWEEP_INTERVAL_SECONDS: String(sweeperIntervalSeconds),
      LEAD_FILES_URL: deployed ? { 'Fn::GetAtt': ['FilesLambdaFunctionUrl', 'FunctionUrl'] } : 'local-function-url:files',
      ...alerts.env,
    },
    // Its stream, exported by the chat stack for the lead service's scheduler.
    chatThreadsStreamExport: `chatkit-lead-intake-chat-${stage}-threads-stream-arn`,
    // Usage counters (turns per user, new users per source IP, model calls per day): the chat
    // service owns the table, the session service counts new users in it.
    chatLimitsTable: `chatkit-lead-intake-chat-${stage}-limits`,
    // The owner's inbox (services/inbox): the lead records (the lead service owns the table and
    // writes each lead once; the inbox reads it and records outcomes), who may sign in, and what the
    // inbox reads of the lead service (its ledger's deliveries, its trigger queue, its files links).
    inboxLeadsTable: `chatkit-lead-intake-lead-${stage}-leads`,
    inboxOwnersCsv: inboxOwners.join(','),
    leadLedgerTable: `chatkit-lead-intake-lead-${stage}-dedupe`,
    leadSpoolQueue: `chatkit-lead-intake-lead-${stage}-trigger-spool`,
    inboxFilesUrl: deployed ? { 'Fn::ImportValue': `chatkit-lead-intake-lead-${stage}-files-url` } : 'local-function-url:files',
    // Photos load from the files function and the S3 URL it redirects to (the page's CSP img-src).
    inboxImgSources: deployed ? `https://*.lambda-url.${settings.region}.on.aws https://*.amazonaws.com` : 'http://127.0.0.1:*',
    // Cookies only over https: deployed stages (local stages are plain http on loopback).
    inboxSecureCookies: deployed ? 'true' : 'false',
    // The inbox's address for the lead email and text: the inbox stack writes it to SSM (read on
    // first use); locally the local stack's URL.
    leadInboxUrl: deployed ? '' : 'local-function-url:inbox',
  };
}

/**
 * The owner's channels are a registry in TypeScript (packages/alerts/src/channels): each channel's
 * stage rule and the rule its functions check at cold start are one. Loaded through tsx here, where
 * serverless requires this file as plain CommonJS (a few hundred ms, once per packaging process).
 */
let channelsModule;
function channels() {
  const file = join(__dirname, '..', '..', 'packages', 'alerts', 'src', 'channels', 'stage.ts');
  // Where TypeScript loads already (Jest's transform, a tsx process) it is an ordinary require.
  const loadsTs = typeof jest !== 'undefined' || Boolean(require.extensions && require.extensions['.ts']);
  channelsModule ??= loadsTs ? require(file) : require('tsx/cjs/api').require(file, __filename);
  return channelsModule;
}

/**
 * The SSM parameters each function may read (its IAM resources): only the secrets it uses, so a
 * function that needs the token secret alone (session, files) cannot read the OpenAI key.
 */
const SECRETS_READ = {
  // A stage left in the hosted mode reads nothing (hosted sessions ended on 2026-11-30: it answers 410);
  // the grant stays so that its IAM statement is never empty.
  session: () => ['CHATKIT_TOKEN_SECRET'],
  chat: () => ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET'],
  // The lead, sweeper and scheduler functions: the OpenAI key, the token secret (client tokens, the
  // file links' and follow-up index's keys), the owner channels' secrets (the webhook's signing secret).
  // INBOX_URL: a plain String the inbox stack writes (the owner's links to a lead).
  lead: (mode, channelSecrets) => ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET', 'INBOX_URL', ...channelSecrets],
  files: () => ['CHATKIT_TOKEN_SECRET'],
  // The inbox: its keys are derived from the token secret (the photo links are signed with it too).
  inbox: () => ['CHATKIT_TOKEN_SECRET'],
};
function secretArns(stage, mode, channelSecrets) {
  const arn = (name) => ({
    'Fn::Join': [
      '',
      ['arn:aws:ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:parameter/chatkit-lead-intake/${stage}/${name}`],
    ],
  });
  return Object.fromEntries(Object.entries(SECRETS_READ).map(([fn, names]) => [fn, names(mode, channelSecrets).map(arn)]));
}

module.exports = { resolveStage, LOCAL_ACCOUNT_ID };
