import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import sesServer from 'aws-ses-v2-local';
import { startEmulator, type RunningEmulator } from '@lead-intake/openai-emulator';
import { startSqsEmulator, type RunningSqsEmulator } from '@lead-intake/sqs-emulator';
import { startAlertsEmulator } from '@lead-intake/alerts-emulator';
import { bundleFunction } from './build';
import { FUNCTION_URLS, LOCAL_TOKEN_SECRET, LOCAL_WEBHOOK_SECRET, PORT_VARS, type LocalStackConfig } from './config';
import { createTables, startDynamo, type RunningDynamo } from './dynamodb';
import { LocalFunction, serveFunctionUrl } from './function-url';
import { LOCAL_DIR } from './paths';
import { assertPortFree } from './process';
import { discoverServices, resolveService, type ResolvedService } from './service-config';
import { createQueues, type LocalQueues } from './sqs';
import { StreamPoller } from './streams';
import { resolveStage } from '@lead-intake/stage-config';
import { resolveLocal, type LocalAccount } from './intrinsics';
import { startS3, type RunningS3 } from './s3';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { dynamoClient } from './dynamodb';

export interface RunningStack {
  urls: Record<string, string>;
  dynamoEndpoint: string;
  sesEndpoint: string;
  sqsEndpoint: string;
  s3Endpoint: string;
  /** The alerts stand-in: texts and webhook deliveries (GET /store). */
  alertsEndpoint: string;
  /** Each service's queues (logical id -> local URL), as created from its resources. */
  queues: Map<string, LocalQueues>;
  /** Base URL (with /v1) of the emulator, or null when a real OPENAI_API_KEY is used. */
  openaiBaseURL: string | null;
  functions: Map<string, LocalFunction>;
  tables: string[];
  stop(): Promise<void>;
}

export { LOCAL_TOKEN_SECRET } from './config';

export async function startLocalStack(cfg: LocalStackConfig, log: (line: string) => void = console.log): Promise<RunningStack> {
  let current: RunningDynamo;
  let stopping = false;
  const useEmulator = !process.env.OPENAI_API_KEY;
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    stopping = true; // a child that exits from now on is not restarted
    for (const s of stoppers.reverse()) await s().catch((e) => console.error(`[local-stack] while stopping: ${e.message}`));
    stoppers.length = 0;
  };

  try {
    // Local stages read their secrets from the environment and name local values; a deployed
    // stage's templates (SSM secrets, intrinsics only AWS resolves) cannot run here.
    if (!resolveStage(cfg.stage).secretsFromEnvironment)
      throw new Error(
        `LOCAL_STAGE=${cfg.stage} is a deployed stage; the local stack runs local stages (local, bench: secretsFromEnvironment)`,
      );
    await Promise.all([
      assertPortFree(cfg.host, cfg.dynamoPort, PORT_VARS.dynamoPort),
      assertPortFree(cfg.host, cfg.sesPort, PORT_VARS.sesPort),
      assertPortFree(cfg.host, cfg.sqsPort, PORT_VARS.sqsPort),
      assertPortFree(cfg.host, cfg.s3Port, PORT_VARS.s3Port),
      assertPortFree(cfg.host, cfg.alertsPort, PORT_VARS.alertsPort),
      useEmulator ? assertPortFree(cfg.host, cfg.openaiPort, PORT_VARS.openaiPort) : Promise.resolve(),
    ]);

    const cacheDir = join(LOCAL_DIR, 'cache');
    const [services, dynamo, ses, sqs, alerts, emulator] = await Promise.all([
      Promise.all(discoverServices().map((d) => resolveService(d, cfg.stage, cacheDir))),
      startDynamo(cfg.host, cfg.dynamoPort, { dataDir: cfg.dynamoDataDir }).then((d) => (stoppers.push(() => current.stop()), d)),
      sesServer({ host: cfg.host, port: cfg.sesPort }).then((s) => (stoppers.push(() => closeServer(s)), s)),
      startSqsEmulator({ host: cfg.host, port: cfg.sqsPort, region: process.env.AWS_REGION ?? 'us-west-2' }).then(
        (q) => (stoppers.push(q.close), q),
      ),
      startAlertsEmulator({ host: cfg.host, port: cfg.alertsPort }).then((a) => (stoppers.push(a.close), a)),
      useEmulator
        ? startEmulator({ host: cfg.host, port: cfg.openaiPort }).then((e) => (stoppers.push(e.close), e))
        : Promise.resolve(null),
    ]);
    void ses;
    const account: LocalAccount = {
      functionUrls: Object.fromEntries(Object.keys(FUNCTION_URLS).map((n) => [n, `http://${cfg.host}:${cfg.functionPorts[n]}/`])),
      alertsUrl: alerts.endpoint,
    };
    const s3 = await startS3(
      cfg.host,
      cfg.s3Port,
      services.flatMap((s) => s.buckets),
    );
    stoppers.push(s3.close);
    log(`DynamoDB Local   ${dynamo.endpoint}${cfg.dynamoDataDir ? `  (data in ${cfg.dynamoDataDir})` : '  (in memory)'}`);
    log(`SES emulator     http://${cfg.host}:${cfg.sesPort}/  (web UI lists every email sent)`);
    log(`SQS emulator     ${sqs.endpoint}/  (GET lists the queues and their messages)`);
    log(`S3 stand-in      ${s3.endpoint}  (buckets: ${s3.buckets.join(', ') || 'none'})`);
    log(`Alerts stand-in  ${alerts.endpoint}/  (web page lists every text and webhook delivery)`);
    log(emulator ? `OpenAI emulator  ${emulator.baseURL}` : 'OpenAI           the real API (OPENAI_API_KEY is set)');

    const tables = await createTables(
      dynamo.endpoint,
      services.flatMap((s) => s.tables),
    );
    if (tables.length) log(`Tables           ${tables.join(', ')}`);
    const queues = new Map(services.map((s) => [s.service, createQueues(sqs, s.queues)] as const));
    const queueNames = [...queues.values()].flatMap((q) => [...q.values()].map((x) => x.name));
    if (queueNames.length) log(`Queues           ${queueNames.join(', ')}`);
    // Supervised, as the managed service is there: if DynamoDB Local dies it is started again on
    // the same port with the same tables (and the same data with LOCAL_DYNAMODB_DATA_DIR; in memory
    // by default, so then it comes back empty).
    current = dynamo;
    const supervise = (d: RunningDynamo) =>
      d.child.once('exit', () => {
        if (stopping) return;
        console.error('[local-stack] DynamoDB Local exited; starting it again');
        void (async () => {
          try {
            current = await startDynamo(cfg.host, cfg.dynamoPort, { dataDir: cfg.dynamoDataDir });
            await createTables(
              current.endpoint,
              services.flatMap((s) => s.tables),
            );
            supervise(current);
            console.error('[local-stack] DynamoDB Local restarted');
          } catch (e) {
            console.error(`[local-stack] DynamoDB Local could not be restarted: ${(e as Error).message}`);
          }
        })();
      });
    supervise(dynamo);
    const mode = cfg.chatkitMode ?? services.flatMap((s) => s.functions).find((f) => f.environment.CHATKIT_MODE)?.environment.CHATKIT_MODE;
    log(
      `ChatKit mode     ` +
        `${mode}${cfg.chatkitMode ? ' (LOCAL_CHATKIT_MODE)' : ' (stages.config.json; LOCAL_CHATKIT_MODE=hosted for the legacy mode)'}`,
    );

    const functions = await startFunctions(cfg, services, dynamo, sqs, s3, account, emulator, stoppers);
    const urls: Record<string, string> = {};
    for (const [name, fn] of functions) {
      const url = fn.fn.url;
      if (!url) continue;
      const spec = FUNCTION_URLS[name];
      if (!spec)
        throw new Error(`Function '${name}' has a URL but no local port; add it to FUNCTION_URLS in local/local-stack/src/config.ts`);
      await assertPortFree(cfg.host, cfg.functionPorts[name]!, spec.portVar);
      const served = await serveFunctionUrl(fn, cfg.host, cfg.functionPorts[name]!);
      stoppers.push(() => closeServer(served.server));
      urls[name] = served.url;
      log(`${name.padEnd(16)} ${served.url}${url.invokeMode === 'RESPONSE_STREAM' ? '  (response streaming)' : ''}`);
    }
    startSchedules(functions, stoppers, log);
    startStreams(functions, services, dynamo.endpoint, sqs, queues, stoppers, log);

    if (cfg.outputsFile) {
      const custom: Record<string, string> = {};
      for (const [name, url] of Object.entries(urls)) if (FUNCTION_URLS[name]!.output) custom[FUNCTION_URLS[name]!.output!] = url;
      mkdirSync(dirname(cfg.outputsFile), { recursive: true });
      writeFileSync(cfg.outputsFile, `${JSON.stringify({ custom }, null, 2)}\n`);
    }

    return {
      urls,
      dynamoEndpoint: dynamo.endpoint,
      sesEndpoint: `http://${cfg.host}:${cfg.sesPort}`,
      sqsEndpoint: sqs.endpoint,
      s3Endpoint: s3.endpoint,
      alertsEndpoint: alerts.endpoint,
      queues,
      openaiBaseURL: emulator?.baseURL ?? null,
      functions,
      tables,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function startFunctions(
  cfg: LocalStackConfig,
  services: ResolvedService[],
  dynamo: RunningDynamo,
  sqs: RunningSqsEmulator,
  s3: RunningS3,
  account: LocalAccount,
  emulator: RunningEmulator | null,
  stoppers: Array<() => Promise<void>>,
): Promise<Map<string, LocalFunction>> {
  const outDir = join(LOCAL_DIR, 'build');
  const all = services.flatMap((svc) => svc.functions.map((fn) => ({ svc, fn })));
  const bundles = await Promise.all(all.map(({ svc, fn }) => bundleFunction(svc, fn, outDir)));
  const sesEndpoint = `http://${cfg.host}:${cfg.sesPort}`;
  const functions = new Map<string, LocalFunction>();
  all.forEach(({ fn }, i) => {
    if (functions.has(fn.name)) throw new Error(`Two services define a function named '${fn.name}'`);
    const resolved: Record<string, string> = {};
    for (const [k, v] of Object.entries(fn.environmentIntrinsics ?? {})) {
      const value = resolveLocal(v, account);
      if (value === undefined)
        console.warn(`[local-stack] ${fn.service}.${fn.name}: environment ${k} is not set locally (${JSON.stringify(v)})`);
      else resolved[k] = value;
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...fn.environment,
      ...resolved,
      AWS_REGION: process.env.AWS_REGION ?? 'us-west-2',
      AWS_DEFAULT_REGION: process.env.AWS_REGION ?? 'us-west-2',
      // Local stand-ins only: fake credentials, and the SDK's standard endpoint variables.
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SES: sesEndpoint,
      AWS_ENDPOINT_URL_SESV2: sesEndpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: `http://${cfg.host}:${cfg.alertsPort}`,
      AWS_LAMBDA_FUNCTION_NAME: `${fn.service}-${cfg.stage}-${fn.name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      // A scheduled function runs on the local interval, not the stage's (the sweeper's window follows it).
      ...(fn.schedule?.length && scheduleSeconds() > 0
        ? { LEAD_SWEEP_INTERVAL_SECONDS: String(Math.max(1, Math.round(scheduleSeconds()))) }
        : {}),
      CHATKIT_TOKEN_SECRET: process.env.CHATKIT_TOKEN_SECRET ?? LOCAL_TOKEN_SECRET,
      LEAD_WEBHOOK_SECRET: process.env.LEAD_WEBHOOK_SECRET ?? LOCAL_WEBHOOK_SECRET,
      ...(emulator
        ? {
            OPENAI_BASE_URL: emulator.baseURL,
            OPENAI_API_KEY: 'local-emulator-key',
          }
        : {}),
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    // One variable switches the whole stack's mode, as the stage setting does when deployed.
    if (cfg.chatkitMode && env.CHATKIT_MODE !== undefined) env.CHATKIT_MODE = cfg.chatkitMode;
    const local = new LocalFunction(fn, bundles[i]!, env);
    functions.set(fn.name, local);
    stoppers.push(() => local.stop());
  });
  await Promise.all([...functions.values()].map((f) => f.warm()));
  return functions;
}

/** Runs scheduled functions (EventBridge `schedule` events) on a local interval. */
const scheduleSeconds = () => Number(process.env.LOCAL_SCHEDULE_SECONDS ?? 10);

function startSchedules(functions: Map<string, LocalFunction>, stoppers: Array<() => Promise<void>>, log: (l: string) => void) {
  const seconds = scheduleSeconds();
  if (!(seconds > 0)) return;
  for (const [name, fn] of functions) {
    if (!fn.fn.schedule?.length) continue;
    let running = false;
    let missed = false;
    let stopped = false;
    const run = async (): Promise<void> => {
      if (stopped) return;
      // Never two runs of one schedule at once (the sweeper's reserved concurrency is 1). A tick that
      // comes during a run is not dropped: as EventBridge retries an invocation Lambda throttled, it
      // runs as soon as the current run ends.
      if (running) {
        missed = true;
        return;
      }
      running = true;
      const started = Date.now();
      try {
        const outcome = await fn.invoke({
          version: '0',
          id: crypto.randomUUID(),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          time: new Date().toISOString(),
          resources: [],
          detail: {},
        });
        if (outcome.kind !== 'result') console.error(`[${name}] scheduled run ended with ${outcome.kind}`);
        // As the HTTP lines: how long the run took, and what it answered (the sweeper: counts only).
        else console.log(`[${name}] schedule ${Date.now() - started}ms ${JSON.stringify(outcome.result ?? null)}`);
      } finally {
        running = false;
      }
      if (missed) {
        missed = false;
        await run();
      }
    };
    const timer = setInterval(() => void run(), seconds * 1000);
    stoppers.push(async () => {
      stopped = true;
      clearInterval(timer);
    });
    log(`${name.padEnd(16)} every ${seconds}s (schedule; LOCAL_SCHEDULE_SECONDS)`);
  }
}

/**
 * Runs DynamoDB stream event source mappings (`stream` events) against DynamoDB Local's streams
 * (./streams.ts). LOCAL_STREAMS=0 turns them off (the shared test stack does, so that its tests'
 * conversations are not also evaluated by the scheduler; the scheduler's own tests start a stack with them on).
 */
function startStreams(
  functions: Map<string, LocalFunction>,
  services: ResolvedService[],
  endpoint: string,
  sqs: RunningSqsEmulator,
  queues: Map<string, LocalQueues>,
  stoppers: Array<() => Promise<void>>,
  log: (l: string) => void,
) {
  if (process.env.LOCAL_STREAMS === '0') return;
  const exports = Object.assign(
    {},
    ...services.map((s) => Object.fromEntries(Object.entries(s.streamExports).map(([n, id]) => [n, { svc: s, id }]))),
  );
  const region = process.env.AWS_REGION ?? 'us-west-2';
  const clients = {
    client: dynamoClient(endpoint),
    streams: new DynamoDBStreamsClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  };
  stoppers.push(async () => (clients.client.destroy(), clients.streams.destroy()));
  for (const [name, fn] of functions) {
    const svc = services.find((s) => s.service === fn.fn.service)!;
    for (const source of fn.fn.streams ?? []) {
      const owner = 'importValue' in source.arn ? exports[source.arn.importValue] : { svc, id: source.arn.tableLogicalId };
      if (!owner) throw new Error(`${name}: no service exports the stream '${(source.arn as { importValue: string }).importValue}'`);
      const table = owner.svc.tables.find((t: { logicalId: string }) => t.logicalId === owner.id)?.properties.TableName;
      if (typeof table !== 'string') throw new Error(`${name}: the stream's table ${owner.id} is not a table of ${owner.svc.service}`);
      const failureQueue = source.onFailureQueue ? queues.get(svc.service)?.get(source.onFailureQueue) : undefined;
      const poller = new StreamPoller({
        name,
        tableName: table,
        source,
        region,
        dynamo: () => clients,
        invoke: (event) => fn.invoke(event),
        onFailure: failureQueue ? (body) => sqs.queue(failureQueue.name)!.send(body) : undefined,
        log: (l) => console.error(l),
      });
      poller.start();
      stoppers.push(() => poller.stop());
      log(`${name.padEnd(16)} the ${table} stream (event source mapping; LOCAL_STREAMS=0 turns it off)`);
    }
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
