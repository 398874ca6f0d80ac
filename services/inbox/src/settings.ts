import { ConfigError, intSetting, listSetting, stringSetting } from '@lead-intake/config';
import { isSendableAddress } from '@lead-intake/contacts/rules';

type Env = Record<string, string | undefined>;

/**
 * Every setting of the inbox function, read once at cold start from its environment (set by
 * services/inbox/serverless.yml from stages.config.json). A bad value fails the cold start with
 * the variable's name.
 */
export interface InboxSettings {
  stage: string;
  /** Who may sign in (stages.config.json `inbox.owners`; default: the lead recipients). Lower-cased. */
  owners: string[];
  /** The sender of the sign-in emails (the stage's SES sender, as the lead email's). */
  from: string;
  leadsTable: string;
  authTable: string;
  threadsTable: string;
  /** The lead service's ledger (read only: each lead's deliveries). */
  ledgerTable: string;
  /** The lead service's trigger queue: "This is a customer" asks it for the lead (its sweeper sends it). */
  leadSpoolQueue: string;
  /** The files function's URL (photo thumbnails: the same signed links the email has), or '' for none. */
  filesUrl: string;
  /** Where photos may load from (the files function redirects to S3): the Content-Security-Policy's img-src. */
  imgSources: string;
  /** Cookies only over https (deployed stages). */
  secureCookies: boolean;
  secretsSsmPath: string;
  linksPerAddressPerHour: number;
  linksPerNetworkPerHour: number;
}

export function inboxSettings(env: Env = process.env): InboxSettings {
  const owners = listSetting(env, 'INBOX_OWNERS', []).map((o) => o.toLowerCase());
  if (!owners.length || !owners.every(isSendableAddress))
    throw new ConfigError('INBOX_OWNERS', 'INBOX_OWNERS must list one or more email addresses (comma-separated)');
  return {
    stage: stringSetting(env, 'STAGE'),
    owners,
    from: stringSetting(env, 'INBOX_FROM_EMAIL'),
    leadsTable: stringSetting(env, 'INBOX_LEADS_TABLE'),
    authTable: stringSetting(env, 'INBOX_AUTH_TABLE'),
    threadsTable: stringSetting(env, 'CHAT_THREADS_TABLE'),
    ledgerTable: stringSetting(env, 'LEAD_DEDUPE_TABLE_NAME'),
    leadSpoolQueue: stringSetting(env, 'LEAD_SPOOL_QUEUE_NAME'),
    filesUrl: env.INBOX_FILES_URL ?? '',
    imgSources: env.INBOX_IMG_SOURCES || "'self'",
    secureCookies: env.INBOX_SECURE_COOKIES !== 'false',
    secretsSsmPath: env.SECRETS_SSM_PATH ?? '',
    linksPerAddressPerHour: intSetting(env, 'INBOX_LINKS_PER_ADDRESS_PER_HOUR', 5, { min: 1, max: 1000 }),
    linksPerNetworkPerHour: intSetting(env, 'INBOX_LINKS_PER_NETWORK_PER_HOUR', 20, { min: 1, max: 100000 }),
  };
}
