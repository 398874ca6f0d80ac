import { batchGetAll, documentClient, dynamoClient } from '@lead-intake/dynamo';
import { InboxStore } from '@lead-intake/inbox-store';
import { deliveriesOf, TriggerSpool, type LedgerRecord } from '@lead-intake/ledger';
import { createSesClient, sendEmail } from '@lead-intake/ses-mailer';
import { DynamoThreadStore } from '@lead-intake/thread-store';
import { UsageLimits } from '@lead-intake/usage-limits';
import { AuthStore } from './auth';
import { signinEmail } from './views/email';
import type { InboxSettings } from './settings';

/** The inbox's clients, made once per instance on first use. */
export interface Deps {
  auth: AuthStore;
  inbox: InboxStore;
  limits(): UsageLimits;
  threads(): DynamoThreadStore;
  spool(): TriggerSpool;
  sendLink(to: string, link: string): Promise<void>;
  /** The ledger's deliveries of these threads' leads (one BatchGetItem per 100). */
  deliveries(threadIds: string[]): Promise<Map<string, Record<string, { id: string; at: number }>>>;
}

let made: Deps | undefined;

export function deps(s: InboxSettings): Deps {
  if (made) return made;
  // One client (one connection pool) for the stores; document clients from it keep one marshalling rule (@lead-intake/dynamo).
  const client = dynamoClient();
  const doc = documentClient(client);
  let limits: UsageLimits | undefined;
  let threads: DynamoThreadStore | undefined;
  let spool: TriggerSpool | undefined;
  let ses: ReturnType<typeof createSesClient> | undefined;
  made = {
    auth: new AuthStore(s.authTable, client),
    inbox: new InboxStore({ tableName: s.leadsTable, client }),
    limits: () => (limits ??= new UsageLimits({ tableName: s.authTable, client })),
    threads: () => (threads ??= new DynamoThreadStore({ tableName: s.threadsTable, client })),
    spool: () => (spool ??= new TriggerSpool(s.leadSpoolQueue)),
    async sendLink(to, link) {
      const m = signinEmail(link);
      await sendEmail((ses ??= createSesClient()), { from: s.from, to: [to], subject: m.subject, text: m.text, html: m.html });
    },
    async deliveries(threadIds) {
      const out = new Map<string, Record<string, { id: string; at: number }>>();
      const ids = [...new Set(threadIds)];
      const got = await batchGetAll<LedgerRecord>(
        doc,
        s.ledgerTable,
        ids.map((thread_id) => ({ thread_id })),
      );
      for (const r of got) out.set(String(r.thread_id), deliveriesOf(r));
      return out;
    },
  };
  return made;
}
