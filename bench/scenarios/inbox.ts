/**
 * The owner's inbox (issue 30 §5): the list page for a stage holding 1,000 leads, timed from the
 * request to the whole page over the local Function URL (the function in its own process, DynamoDB
 * Local behind it), p50 and p99; the same with a search (a filter reads on through the index); and
 * what the page ships: the JavaScript and the stylesheet, in bytes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InboxStore, type NewInboxLead } from '@lead-intake/inbox-store';
import { ASSETS } from '../../services/inbox/src/assets';
import { AuthStore, randomToken } from '../../services/inbox/src/auth';
import { dynamoEndpoint, HOST, PORTS, STAGE } from '../lib/stack';
import { log, median, quantile, round } from '../lib/measure';

const LEADS = 1000;
const RUNS = 200;

export async function inboxList() {
  log('inbox list...');
  const client = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const inbox = new InboxStore({ tableName: `chatkit-lead-intake-lead-${STAGE}-leads`, client });
  const now = Math.floor(Date.now() / 1000);
  // 1,000 leads over the last 90 days, as the pipeline writes them (ten at a time).
  const leads: NewInboxLead[] = Array.from({ length: LEADS }, (_, n) => ({
    shopId: 'craigs-autos',
    threadId: `cthr_bench${String(n).padStart(6, '0')}`,
    kind: 'lead',
    at: now - Math.floor((n * 90 * 86400) / LEADS),
    name: `Customer ${n}`,
    phones: [`+1408555${String(1000 + (n % 9000)).padStart(4, '0')}`],
    emails: [`customer${n}@example.com`],
    vehicle: '2016 Toyota Tacoma',
    need: 'Brakes grinding when stopping',
    urgent: n % 10 === 0,
    afterHours: n % 3 === 0,
    followUpOf: null,
    request: n % 7 === 0 ? 'Callback requested: Tomorrow morning' : null,
    leadKind: null,
    pageUrl: 'https://craigs.autos/brakes',
    trigger: 'auto',
    summary: null,
    flags: null,
    expiresAt: now + 86400,
  }));
  for (let i = 0; i < leads.length; i += 10) await Promise.all(leads.slice(i, i + 10).map((l) => inbox.recordLead(l)));

  const base = `http://${HOST}:${PORTS.LOCAL_INBOX_PORT}`;
  const token = randomToken();
  await new AuthStore(`chatkit-lead-intake-inbox-${STAGE}-auth`, client).createLink(token, 'victor@craigs.autos', now);
  const used = await fetch(`${base}/auth`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
  const cookie = used.headers.getSetCookie()[0]!.split(';')[0]!;
  const time = async (path: string) => {
    const out: number[] = [];
    for (let i = 0; i < 20; i++) await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`, { headers: { cookie } });
      const html = await res.text();
      out.push(performance.now() - t0);
      if (res.status !== 200 || !html.includes('class="lead"')) throw new Error(`inbox ${path}: ${res.status}`);
    }
    return out;
  };
  const list = await time('/');
  const search = await time(`/?q=${encodeURIComponent('(408) 555-1234')}`);
  const js = Object.values(ASSETS)
    .filter((a) => a.type.startsWith('text/javascript'))
    .reduce((n, a) => n + Buffer.byteLength(a.body), 0);
  const css = Object.values(ASSETS)
    .filter((a) => a.type.startsWith('text/css'))
    .reduce((n, a) => n + Buffer.byteLength(a.body), 0);
  return {
    leads: LEADS,
    runs: RUNS,
    listP50Ms: round(median(list), 1),
    listP99Ms: round(quantile(list, 0.99), 1),
    searchP50Ms: round(median(search), 1),
    searchP99Ms: round(quantile(search, 0.99), 1),
    javascriptBytes: js,
    cssBytes: css,
    target: 'list p50 <= 50 ms; JavaScript <= 30 KB',
    met: median(list) <= 50 && js <= 30 * 1024,
  };
}
