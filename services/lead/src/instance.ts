/**
 * One Lambda instance of the lead service, composed once: its settings (./settings.ts, parsed at
 * cold start), logger and metrics, the ledger and the trigger spool, and the pipeline
 * (./pipeline.ts: the clients and the lead's ports), loaded on the first request that gets past
 * the ledger. The entry points (handler, sweeper, scheduler, files) use the instance this module
 * makes; nothing is passed around as a module.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChannelModule } from '@lead-intake/alerts/channels';
import { secrets } from '@lead-intake/config';
import { dynamoClient } from '@lead-intake/dynamo';
import { DynamoLedgerStore, Ledger, TriggerSpool, type Requester } from '@lead-intake/ledger';
import { createLogger, createMetrics, type Logger, type Metrics } from '@lead-intake/observability';
import type { Pipeline, PipelineHost } from './pipeline';
import { readSettings, type LeadSettings } from './settings';

export class LeadInstance implements PipelineHost {
  readonly logger: Logger = createLogger('lead');
  readonly metrics: Metrics = createMetrics('lead');
  readonly settings: LeadSettings;
  /** Where triggers go while the ledger is down (null: such a trigger is refused with 503, and the log says so). */
  readonly spool: TriggerSpool | null;
  private dynamoOnce?: DynamoDBClient;
  private ledgerOnce?: Ledger;
  private pipelineOnce?: Promise<Pipeline>;

  constructor(env: Record<string, string | undefined> = process.env, channels?: readonly ChannelModule<any>[]) {
    this.settings = readSettings(env, channels);
    this.spool = this.settings.spoolQueue ? new TriggerSpool(this.settings.spoolQueue) : null;
  }

  /**
   * The instance's one DynamoDB client, for the ledger and every store of the pipeline: one
   * connection pool, so a send opens one connection (a TLS handshake, deployed) where each store
   * would open its own. Safe to share: @lead-intake/dynamo keeps one marshalling rule for all.
   */
  dynamo(): DynamoDBClient {
    return (this.dynamoOnce ??= dynamoClient());
  }

  /** Created on first use: the fast path pays only for the DynamoDB client. */
  ledger(): Ledger {
    const { tableName, ...config } = this.settings.ledger;
    return (this.ledgerOnce ??= new Ledger(new DynamoLedgerStore({ tableName, client: this.dynamo() }), config));
  }

  /** The pipeline and its clients, loaded on the first request that gets past the ledger. */
  pipeline(): Promise<Pipeline> {
    return (this.pipelineOnce ??= import('./pipeline').then(({ Pipeline }) => new Pipeline(this)));
  }

  /**
   * The secrets a lead function reads (one GetParameters call): the OpenAI key, and self-hosted
   * the token secret (client tokens; it also keys the email's file links and the follow-up index).
   */
  secrets(names: string[] = this.settings.chatkitMode === 'self-hosted' ? ['CHATKIT_TOKEN_SECRET', 'OPENAI_API_KEY'] : ['OPENAI_API_KEY']) {
    return secrets({
      names,
      ssmPath: this.settings.secretsSsmPath,
      onMissing: (e) => this.logger.error(`configuration error: ${e.message}`),
    });
  }

  /**
   * Who asks, for the ledger's owner check (none in hosted mode without a user). The proof reads
   * the conversation, so the pipeline is loaded only if the ledger has to ask.
   */
  requester(apiKey: string, threadId: string, user: string | null): Requester | undefined {
    return user ? { user, verify: async () => (await this.pipeline()).ownsThread(apiKey, threadId, user) } : undefined;
  }
}

/** This instance's (module scope: one per Lambda instance, and per test that loads the handlers in isolation). */
export const lead = new LeadInstance();
