import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './paths';

/**
 * What the local stack needs from a service's serverless.yml, as serverless itself resolves it
 * (`serverless print`): functions, their environment, URL/CORS settings and DynamoDB tables.
 * Reading the resolved config is what keeps the deploy the single source of truth.
 */
export interface ResolvedFunction {
  service: string;
  name: string;
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The function's reserved concurrency: at most this many instances run at once. */
  reservedConcurrency?: number;
  environment: Record<string, string>;
  /** Values only the running stack knows (a function's local URL, ./intrinsics.ts), and intrinsics it reports as unset. */
  environmentIntrinsics?: Record<string, unknown>;
  url?: { invokeMode: 'BUFFERED' | 'RESPONSE_STREAM'; cors?: UrlCors };
  schedule?: string[];
  /** DynamoDB stream event source mappings (`stream` events of type dynamodb). */
  streams?: StreamSource[];
}

/** A `stream` event as the local stack runs it (./streams.ts), with the deploy's own settings. */
export interface StreamSource {
  /** The stream: an Fn::ImportValue name (another service's export) or a table of this service (Fn::GetAtt [<id>, StreamArn]). */
  arn: { importValue: string } | { tableLogicalId: string };
  batchSize: number;
  batchWindowSeconds: number;
  /** Batches of one shard delivered at once, split by partition key (Lambda's ParallelizationFactor, 1-10). */
  parallelizationFactor: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  filterPatterns: unknown[];
  reportBatchItemFailures: boolean;
  /** -1: until the record is too old. */
  maximumRetryAttempts: number;
  maximumRecordAgeSeconds: number;
  /** The on-failure destination, a queue of the same service (logical id). */
  onFailureQueue?: string;
}

export interface UrlCors {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  allowCredentials: boolean;
  maxAge?: number;
}

export interface TableDefinition {
  logicalId: string;
  properties: Record<string, any>;
}

export interface ResolvedService {
  service: string;
  dir: string;
  esbuild: Record<string, any>;
  functions: ResolvedFunction[];
  tables: TableDefinition[];
  queues: QueueDefinition[];
  buckets: QueueDefinition[];
  /** Stream ARNs this service exports (Outputs with an Export of Fn::GetAtt [<table>, StreamArn]): export name -> table logical id. */
  streamExports: Record<string, string>;
}

export interface QueueDefinition {
  logicalId: string;
  properties: Record<string, any>;
}

/** Every service of the repository: each folder of services/ with a serverless.yml. */
export function discoverServices(): string[] {
  const root = join(REPO_ROOT, 'services');
  return readdirSync(root)
    .map((d) => join(root, d))
    .filter((d) => existsSync(join(d, 'serverless.yml')))
    .sort();
}

const SLS_BIN = join(REPO_ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');

/** Every file that can change what `serverless print` answers, hashed to cache its output. */
function inputsHash(serviceDir: string, stage: string): string {
  const h = createHash('sha256').update(stage);
  const files = [join(serviceDir, 'serverless.yml'), join(REPO_ROOT, 'stages.config.json')];
  const addDir = (d: string) => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) addDir(p);
      else files.push(p);
    }
  };
  addDir(join(serviceDir, 'resources'));
  addDir(join(REPO_ROOT, 'tooling', 'stage-config'));
  // The owner channels' stage rules (resolve.cjs loads them): a change there changes the resolved environment.
  addDir(join(REPO_ROOT, 'packages', 'alerts', 'src', 'channels'));
  for (const f of files.sort()) if (existsSync(f)) h.update(relative(REPO_ROOT, f)).update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

function slsPrint(serviceDir: string, stage: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLS_BIN, 'print', '--stage', stage, '--format', 'json'], {
      cwd: serviceDir,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`serverless print failed in ${relative(REPO_ROOT, serviceDir)} (exit ${code}):\n${err || out}`));
      try {
        resolve(JSON.parse(out.slice(out.indexOf('{'))));
      } catch (e) {
        reject(new Error(`serverless print gave no JSON in ${serviceDir}: ${(e as Error).message}`));
      }
    });
  });
}

export async function resolveService(serviceDir: string, stage: string, cacheDir: string): Promise<ResolvedService> {
  mkdirSync(cacheDir, { recursive: true });
  const cacheFile = join(
    cacheDir,
    `print-${relative(REPO_ROOT, serviceDir).replace(/[\\/]/g, '_')}-${stage}-${inputsHash(serviceDir, stage)}.json`,
  );
  let printed: any;
  if (existsSync(cacheFile)) printed = JSON.parse(readFileSync(cacheFile, 'utf8'));
  else {
    printed = await slsPrint(serviceDir, stage);
    writeFileSync(cacheFile, JSON.stringify(printed));
  }
  return fromPrinted(printed, serviceDir);
}

// Values the local stack resolves when it starts: intrinsics, and a local stage's function-URL markers.
const resolvedLater = (v: unknown) =>
  (v !== null && typeof v === 'object') || (typeof v === 'string' && /^local-(function|alerts)-url:/.test(v));
const stringEnv = (env: Record<string, unknown> | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {}))
    if (!resolvedLater(v) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) out[k] = String(v);
  return out;
};
const intrinsicEnv = (env: Record<string, unknown> | undefined): Record<string, unknown> =>
  Object.fromEntries(Object.entries(env ?? {}).filter(([, v]) => resolvedLater(v)));

export function fromPrinted(printed: any, dir: string): ResolvedService {
  const provider = printed.provider ?? {};
  const resources = printed.resources?.Resources ?? {};
  const functions: ResolvedFunction[] = Object.entries<any>(printed.functions ?? {}).map(([name, fn]) => {
    const url = fn.url === true ? {} : fn.url;
    const cors = url?.cors === true ? {} : url?.cors;
    return {
      service: printed.service,
      name,
      handler: fn.handler,
      timeoutSeconds: fn.timeout ?? provider.timeout ?? 6,
      memoryMb: fn.memorySize ?? provider.memorySize ?? 1024,
      reservedConcurrency: typeof fn.reservedConcurrency === 'number' ? fn.reservedConcurrency : undefined,
      environment: { ...stringEnv(provider.environment), ...stringEnv(fn.environment) },
      environmentIntrinsics: { ...intrinsicEnv(provider.environment), ...intrinsicEnv(fn.environment) },
      url: url
        ? {
            invokeMode: url.invokeMode === 'RESPONSE_STREAM' ? 'RESPONSE_STREAM' : 'BUFFERED',
            cors: cors
              ? {
                  allowedOrigins: cors.allowedOrigins ?? ['*'],
                  allowedMethods: cors.allowedMethods ?? ['*'],
                  allowedHeaders: cors.allowedHeaders ?? [],
                  exposedHeaders: cors.exposedResponseHeaders ?? [],
                  allowCredentials: cors.allowCredentials === true,
                  maxAge: cors.maxAge,
                }
              : undefined,
          }
        : undefined,
      // `schedule` events, and EventBridge rules on a schedule (no event pattern).
      schedule: (fn.events ?? [])
        .map((e: any) =>
          typeof e.schedule === 'string'
            ? e.schedule
            : (e.schedule?.rate ?? (e.eventBridge?.pattern ? undefined : e.eventBridge?.schedule)),
        )
        .flat()
        .filter((x: unknown): x is string => typeof x === 'string'),
      streams: (fn.events ?? []).filter((e: any) => e.stream).map((e: any) => streamSource(e.stream, `${printed.service}.${name}`)),
    };
  });
  const ofType = (type: string) =>
    Object.entries<any>(resources)
      .filter(([, r]) => r.Type === type)
      .map(([logicalId, r]) => ({ logicalId, properties: r.Properties ?? {} }));
  return {
    service: printed.service,
    dir,
    esbuild: printed.custom?.esbuild ?? {},
    functions,
    tables: ofType('AWS::DynamoDB::Table'),
    queues: ofType('AWS::SQS::Queue'),
    buckets: ofType('AWS::S3::Bucket'),
    streamExports: Object.fromEntries(
      Object.values<any>(printed.resources?.Outputs ?? {})
        .map((o) => [o.Export?.Name, o.Value?.['Fn::GetAtt']] as const)
        .filter(([name, att]) => typeof name === 'string' && Array.isArray(att) && att[1] === 'StreamArn')
        .map(([name, att]) => [name as string, att[0] as string]),
    ),
  };
}

/** A `stream` event's settings, with Lambda's defaults; what cannot run locally is said, not guessed. */
function streamSource(e: any, where: string): StreamSource {
  if (typeof e !== 'object' || e.type !== 'dynamodb') throw new Error(`${where}: only \`stream\` events of type dynamodb run locally`);
  const arn = e.arn?.['Fn::ImportValue'];
  const att = e.arn?.['Fn::GetAtt'];
  const source: StreamSource['arn'] | undefined =
    typeof arn === 'string' ? { importValue: arn } : Array.isArray(att) && att[1] === 'StreamArn' ? { tableLogicalId: att[0] } : undefined;
  if (!source) throw new Error(`${where}: a stream's arn must be Fn::ImportValue or Fn::GetAtt [<table>, StreamArn] to run locally`);
  const dest = e.destinations?.onFailure;
  const destArn = typeof dest === 'object' ? (dest.arn ?? dest) : dest;
  const queue = Array.isArray(destArn?.['Fn::GetAtt']) ? destArn['Fn::GetAtt'][0] : undefined;
  if (dest && !queue) throw new Error(`${where}: a stream's onFailure destination must be a queue of the same service to run locally`);
  const parallelizationFactor = e.parallelizationFactor ?? 1;
  if (!Number.isInteger(parallelizationFactor) || parallelizationFactor < 1 || parallelizationFactor > 10)
    throw new Error(`${where}: a stream's parallelizationFactor must be a whole number from 1 to 10 (Lambda's limit)`);
  return {
    arn: source,
    batchSize: e.batchSize ?? 10,
    batchWindowSeconds: e.batchWindow ?? 0,
    parallelizationFactor,
    startingPosition: e.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
    filterPatterns: e.filterPatterns ?? [],
    reportBatchItemFailures: e.functionResponseType === 'ReportBatchItemFailures',
    maximumRetryAttempts: e.maximumRetryAttempts ?? -1,
    maximumRecordAgeSeconds: e.maximumRecordAgeInSeconds ?? 86400,
    onFailureQueue: queue,
  };
}
