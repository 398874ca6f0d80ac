/**
 * The lead pipeline (@lead-intake/lead-pipeline `runLead`) composed for this instance: it owns
 * the clients (created on first use, once per instance) and builds each run's ports from the
 * settings. Loaded lazily (LeadInstance.pipeline) after the ledger's fast path, so a duplicate
 * trigger never pays for OpenAI, zod, libphonenumber or SES.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import OpenAI from 'openai';
import { ISSUED_USER_ID } from '@lead-intake/chat-auth';
import { lazySecret } from '@lead-intake/config';
import { ContactIndex, type Ledger, type Lease } from '@lead-intake/ledger';
import {
  runLead,
  runRequestUpdate,
  type Delivery,
  type LeadAnswer,
  type LeadJob,
  type InboxEntry,
  type LeadPorts,
  type UpdateAnswer,
  type UpdateJob,
} from '@lead-intake/lead-pipeline';
import { MetricUnit } from '@lead-intake/observability';
import { openaiClientCache, type ClientBudget } from '@lead-intake/openai-client';
import { signedLink } from '@lead-intake/attachments';
import { takesAlert, type LeadAlert } from '@lead-intake/alerts';
import { createSesClient, sendEmail } from '@lead-intake/ses-mailer';
import { loadShopProfile } from '@lead-intake/shop';
import { InboxStore, type NewInboxLead } from '@lead-intake/inbox-store';
import { httpUrlOrNull } from '@lead-intake/http/fields';
import { StoreTranscriptSource, DynamoThreadStore } from '@lead-intake/thread-store';
import { FallbackTranscriptSource, HostedChatKitSource, type TranscriptSource } from '@lead-intake/transcript';
import { DailyBudget } from '@lead-intake/usage-limits';
import { leadHooks, type Reporter } from './outcome';
import type { LeadSettings } from './settings';

/** What the pipeline needs of its instance. */
export interface PipelineHost extends Reporter {
  readonly settings: LeadSettings;
  ledger(): Ledger;
  /** The instance's DynamoDB client, shared by its stores. */
  dynamo(): DynamoDBClient;
}

/** The invocation's secrets: the OpenAI key, and (self-hosted) the token secret that also signs the email's file links. */
export interface LeadSecrets {
  OPENAI_API_KEY?: string;
  CHATKIT_TOKEN_SECRET?: string;
}

export class Pipeline {
  private readonly openaiFor = openaiClientCache();
  private threadStoreOnce?: DynamoThreadStore;
  private sesOnce?: ReturnType<typeof createSesClient>;
  private contactIndexOnce?: ContactIndex;
  private summaryBudgetOnce?: DailyBudget;
  private inboxOnce?: InboxStore;
  /** Hosted threads' owners (or null: no such thread), kept a while: unknown ids do not reach OpenAI every time. */
  private readonly hostedOwners = new Map<string, { owner: string | null; until: number }>();
  /** The channels' secrets (a webhook's signing secret: SSM, read on first use and kept 15 minutes). */
  private readonly secrets = new Map<string, () => Promise<string>>();
  /**
   * Self-hosted threads' owners this instance has read: a thread's owner never changes, and the
   * scheduler needs it for each thread of every stream batch (a thread deleted since costs at most
   * one evaluation that finds it gone). The oldest go first past 10,000.
   */
  private readonly owners = new Map<string, string>();

  constructor(private readonly host: PipelineHost) {}

  private secret(name: string): Promise<string> {
    let read = this.secrets.get(name);
    if (!read) {
      read = lazySecret(name, { ssmPath: this.host.settings.secretsSsmPath, env: this.host.settings.channelSecrets });
      this.secrets.set(name, read);
    }
    return read();
  }

  private openai(apiKey: string, budget: ClientBudget): OpenAI {
    return this.openaiFor(apiKey, budget);
  }

  private threadStore(): DynamoThreadStore {
    return (this.threadStoreOnce ??= new DynamoThreadStore({
      tableName: this.host.settings.chatThreadsTable!,
      client: this.host.dynamo(),
    }));
  }

  private transcriptSource(apiKey: string): TranscriptSource {
    const hosted = new HostedChatKitSource(this.openai(apiKey, this.host.settings.threads));
    if (this.host.settings.chatkitMode !== 'self-hosted') return hosted;
    // Self-hosted threads first; one never imported is read from the hosted API (migration period).
    return new FallbackTranscriptSource(new StoreTranscriptSource(this.threadStore()), hosted);
  }

  /** The owner of a self-hosted thread (read from the thread itself, once per instance), or null: no such thread. */
  async threadOwner(threadId: string): Promise<string | null> {
    const known = this.owners.get(threadId);
    if (known) return known;
    const owner = await this.threadStore().threadOwner(threadId);
    if (owner) {
      this.owners.set(threadId, owner);
      if (this.owners.size > 10_000) this.owners.delete(this.owners.keys().next().value!);
    }
    return owner;
  }

  /**
   * Whether `user` owns the thread, read from the conversation itself (before any ledger write):
   * the self-hosted store; a thread not there is a hosted one only for a user that is not
   * server-issued (those never had hosted threads), so an unknown id costs no OpenAI call.
   */
  async ownsThread(apiKey: string, threadId: string, user: string): Promise<boolean> {
    if (this.host.settings.chatkitMode === 'self-hosted') {
      const owner = await this.threadStore().threadOwner(threadId);
      if (owner) return owner === user;
      if (ISSUED_USER_ID.test(user)) return false;
    }
    const owners = this.hostedOwners;
    const now = Date.now();
    let known = owners.get(threadId);
    if (!known || known.until < now) {
      let owner: string | null = null;
      try {
        owner = (await this.openai(apiKey, this.host.settings.threads).beta.chatkit.threads.retrieve(threadId)).user ?? null;
      } catch (e) {
        if (!(e instanceof OpenAI.NotFoundError)) throw e;
      }
      known = { owner, until: now + 10 * 60_000 };
      owners.set(threadId, known);
      if (owners.size > 5000) owners.delete(owners.keys().next().value!);
    }
    return known.owner === user;
  }

  /**
   * Runs one job for a lease holder (the endpoint, the sweeper, a spooled trigger, the scheduler);
   * an unknown thread (or another user's) is a ThreadNotFoundError. `log` names where it came from.
   */
  async run(job: LeadJob, secrets: LeadSecrets, remainingMs: number, log: Record<string, unknown>): Promise<LeadAnswer> {
    const inboxUrl = await this.inboxUrl();
    return runLead(job, this.ports(secrets, remainingMs, { threadId: job.threadId, ...log }, 'lead', inboxUrl));
  }

  /** One request's update to a lead already sent (@lead-intake/lead-pipeline `runRequestUpdate`), for its record's lease holder. */
  update(job: UpdateJob, secrets: LeadSecrets, remainingMs: number, log: Record<string, unknown>): Promise<UpdateAnswer> {
    return runRequestUpdate(job, this.ports(secrets, remainingMs, { threadId: job.threadId, requestId: job.requestId, ...log }, 'update'));
  }

  private inboxUrlOnce?: () => Promise<string>;
  /**
   * The owner's inbox address (the links to a lead): the setting (local stages), else the SSM
   * parameter INBOX_URL the inbox stack writes (read once, kept 15 minutes). Unreadable: no link
   * (logged), the lead goes out all the same.
   */
  private async inboxUrl(): Promise<string | null> {
    const { inbox, secretsSsmPath } = this.host.settings;
    if (inbox.url || !inbox.table || !secretsSsmPath) return inbox.url;
    this.inboxUrlOnce ??= lazySecret('INBOX_URL', { ssmPath: secretsSsmPath, env: {} });
    try {
      return httpUrlOrNull(await this.inboxUrlOnce());
    } catch (e) {
      this.host.logger.warn('inbox address unavailable; the lead goes out without its inbox link', { errorName: (e as Error)?.name });
      return null;
    }
  }

  /** The inbox's record of a lead (or of a filtered conversation): the port's side, keyed by the shop's id. */
  private inboxPort(inboxUrl: string | null): LeadPorts['inbox'] {
    const { table, retentionDays } = this.host.settings.inbox;
    if (!table) return undefined;
    const store = (this.inboxOnce ??= new InboxStore({ tableName: table, client: this.host.dynamo() }));
    const shopId = loadShopProfile().id;
    const toRecord = (e: InboxEntry): NewInboxLead => ({
      ...e,
      shopId,
      summary: e.summary ? JSON.stringify(e.summary) : null,
      flags: JSON.stringify(e.flags),
      expiresAt: e.at + retentionDays * 86400,
    });
    return {
      // The ledger keeps an id per delivery: the record's key.
      record: async (e) => (await store.recordLead(toRecord(e)), `${shopId}/${e.threadId}`),
      filtered: async (e) => void (await store.recordFiltered(toRecord(e))),
      link: (threadId) => (inboxUrl ? new URL(`leads/${encodeURIComponent(threadId)}`, inboxUrl).toString() : null),
    };
  }

  /** The steps' ports for one invocation; `remainingMs` is the invocation's time left. */
  private ports(
    secrets: LeadSecrets,
    remainingMs: number,
    log: Record<string, unknown>,
    what: 'lead' | 'update' = 'lead',
    inboxUrl: string | null = null,
  ): LeadPorts {
    const { settings } = this.host;
    const apiKey = secrets.OPENAI_API_KEY!;
    const { filesUrl, linkDays } = settings.attachments;
    const linkSecret = secrets.CHATKIT_TOKEN_SECRET;
    const { table: contactsTable, windowSeconds } = settings.contacts;
    // Keyed with a stage secret: the token secret (self-hosted), else the OpenAI key (hosted).
    const contactKey = secrets.CHATKIT_TOKEN_SECRET ?? secrets.OPENAI_API_KEY;
    return {
      followUps:
        contactsTable && contactKey
          ? (this.contactIndexOnce ??= new ContactIndex({
              tableName: contactsTable,
              key: contactKey,
              windowSeconds,
              client: this.host.dynamo(),
            }))
          : undefined,
      alerts: (alert, lease) => this.alertDeliveries(alert, lease),
      inbox: what === 'lead' ? this.inboxPort(inboxUrl) : undefined,
      fileLink:
        filesUrl && linkSecret
          ? (threadId, attachmentId) =>
              signedLink(filesUrl, linkSecret, { threadId, attachmentId, expires: Math.floor(Date.now() / 1000) + linkDays * 86400 })
          : undefined,
      ledger: this.host.ledger(),
      source: this.transcriptSource(apiKey),
      openai: this.openai(apiKey, settings.summary),
      summaryBudget: this.summaryBudget(),
      profile: loadShopProfile(),
      model: settings.model,
      // Whatever OpenAI does, LEAD_SEND_RESERVE_MS stays for the email and the ledger write.
      signal: AbortSignal.timeout(Math.max(1, remainingMs - settings.sendReserveMs)),
      deadline: Date.now() + remainingMs - 500,
      send: (email, replyTo) =>
        sendEmail(
          (this.sesOnce ??= createSesClient()),
          {
            from: settings.email.from,
            to: settings.email.to,
            replyTo: replyTo ? [replyTo] : [],
            subject: email.subject,
            text: email.text,
            html: email.html,
          },
          { signal: AbortSignal.timeout(settings.sesTimeoutMs) },
        ),
      hooks: leadHooks(this.host, log, what),
    };
  }

  /**
   * The day's summaries (one conditional write per summary: a summary is a model call of seconds).
   * Past the ceiling a lead goes out without one (counted: SummaryBudgetAlarm); the counter
   * unreachable does not hold a lead back (logged).
   */
  private summaryBudget(): LeadPorts['summaryBudget'] {
    const { table, perDay } = this.host.settings.summaryBudget;
    if (!table) return undefined;
    const budget = (this.summaryBudgetOnce ??= new DailyBudget({
      tableName: table,
      key: 'summaries#day',
      ceiling: perDay,
      block: 1,
      client: this.host.dynamo(),
    }));
    return {
      take: async () => {
        try {
          const got = await budget.take();
          if (!got.ok) this.host.metrics.addMetric('SummariesOverBudget', MetricUnit.Count, 1);
          return got.ok;
        } catch (e) {
          this.host.logger.warn('summary budget unavailable; summarized anyway', { errorName: (e as Error)?.name });
          return true;
        }
      },
    };
  }

  /**
   * The stage's channels beside the email for one lead (the registry's, as configured): each
   * channel's deliveries, for the leads it takes (all, or urgent ones), or for an update if it carries them.
   */
  private alertDeliveries(alert: LeadAlert, lease: Lease): Delivery[] {
    const ctx = { record: { createdAt: lease.createdAt, resendSeq: lease.resendSeq }, secret: (name: string) => this.secret(name) };
    return this.host.settings.channels.flatMap((c) =>
      takesAlert(c, alert) ? c.channel.deliveries(c.settings, alert, ctx).map((d) => ({ ...d, channel: c.channel.name })) : [],
    );
  }
}
