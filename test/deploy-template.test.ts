import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveStage } from '@lead-intake/stage-config';

/**
 * `npx sls package --stage <any>` through compose, offline and without AWS credentials, then the
 * generated CloudFormation of both services is checked: URLs, permissions, runtime, limits, the
 * ledger table, logs, alarms and least-privilege IAM.
 */
const ROOT = join(__dirname, '..');
const STAGE = 'staging';
const settings = resolveStage(STAGE);
type Template = {
  Resources: Record<string, { Type: string; Properties: any; DeletionPolicy?: string; UpdateReplacePolicy?: string; Condition?: string }>;
  Outputs: Record<string, any>;
};
const templates: Record<string, Template> = {};

beforeAll(async () => {
  for (const s of ['session', 'lead', 'chat', 'inbox']) rmSync(join(ROOT, 'services', s, '.serverless'), { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[k];
  env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent';
  await promisify(execFile)('npx', ['sls', 'package', '--stage', STAGE], { cwd: ROOT, env, timeout: 180_000 });
  for (const s of ['session', 'lead', 'chat', 'inbox'])
    templates[s] = JSON.parse(readFileSync(join(ROOT, 'services', s, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'));
}, 200_000);

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
/** A role's statements except writing its own logs and traces (every function's). */
function roleStatements(role: { Properties: any }) {
  return role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).filter(
    (s: any) => !s.Action.every((a: string) => a.startsWith('logs:') || a.startsWith('xray:')),
  );
}
/** Every IAM statement of a template's roles (one per function in the lead stack, serverless's one elsewhere). */
function statements(t: Template) {
  return ofType(t, 'AWS::IAM::Role').flatMap(([, r]) => roleStatements(r));
}
/** The statements of the role a function runs as. */
function statementsOf(t: Template, fn: string) {
  const role = t.Resources[`${fn}LambdaFunction`]!.Properties.Role;
  const id = role['Fn::GetAtt']?.[0] ?? 'IamRoleLambdaExecution';
  return roleStatements(t.Resources[id]!);
}
const actions = (ss: any[]) => ss.flatMap((x) => x.Action).sort();

describe.each(['session', 'lead', 'chat'])('the %s stack', (svc) => {
  const Fn = svc[0]!.toUpperCase() + svc.slice(1);
  const t = () => templates[svc]!;

  it('has a Function URL with the stage’s CORS origins, and both invoke permissions', () => {
    const url = t().Resources[`${Fn}LambdaFunctionUrl`]!;
    expect(url.Type).toBe('AWS::Lambda::Url');
    expect(url.Properties.AuthType).toBe('NONE');
    // The chat and lead endpoints take the client token in Authorization (a preflighted header).
    expect(url.Properties.Cors).toEqual({
      AllowOrigins: settings.allowedOrigins,
      AllowMethods: ['POST'],
      AllowHeaders: svc === 'session' ? ['content-type'] : ['content-type', 'authorization'],
      MaxAge: 300,
    });
    expect(url.Properties.InvokeMode ?? 'BUFFERED').toBe(svc === 'chat' ? 'RESPONSE_STREAM' : 'BUFFERED');
    const perms = ofType(t(), 'AWS::Lambda::Permission').map(([, r]) => r.Properties);
    expect(perms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', Principal: '*' }),
        expect.objectContaining({ Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true, Principal: '*' }),
      ]),
    );
    expect(t().Outputs[`${Fn}LambdaFunctionUrl`].Value).toEqual({ 'Fn::GetAtt': [`${Fn}LambdaFunctionUrl`, 'FunctionUrl'] });
  });

  it('runs nodejs22.x with the chosen memory, timeout and reserved concurrency, logs kept for the stage’s retention', () => {
    const fn = t().Resources[`${Fn}LambdaFunction`]!.Properties;
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.MemorySize).toBe(256);
    expect(fn.Timeout).toBe({ session: 10, lead: 30, chat: 60 }[svc]);
    expect(fn.ReservedConcurrentExecutions).toBe((settings.reservedConcurrency as Record<string, number>)[svc]);
    expect(t().Resources[`${Fn}LogGroup`]!.Properties.RetentionInDays).toBe(settings.logRetentionDays);
  });

  it('keeps secrets out of the template: only the SSM path is in the environment', () => {
    const env = t().Resources[`${Fn}LambdaFunction`]!.Properties.Environment.Variables;
    expect(env.SECRETS_SSM_PATH).toBe(`/chatkit-lead-intake/${STAGE}/`);
    // Secret values never; their names appear only in the IAM resources that let a function read them.
    const json = JSON.stringify({ ...t(), Resources: Object.fromEntries(ofType(t(), 'AWS::Lambda::Function')) });
    expect(json).not.toMatch(/OPENAI_API_KEY|CHATKIT_WORKFLOW_ID|sk-[A-Za-z0-9]/);
    expect(JSON.stringify(t())).not.toMatch(/sk-[A-Za-z0-9]/);
  });

  it('reads only the secrets each function uses, of this stage, with no kms grant (aws/ssm key) and no wildcard resource', () => {
    // One statement per role (the lead stack has one role per function).
    const roles = ofType(t(), 'AWS::IAM::Role');
    for (const [id, role] of roles) {
      const ssm = roleStatements(role).filter((s: any) => s.Action.some((a: string) => a.startsWith('ssm:')));
      expect(ssm).toHaveLength(1);
      expect(ssm[0].Action).toEqual(['ssm:GetParameters']);
      const names = ssm[0].Resource.map((r: any) => /:parameter\/chatkit-lead-intake\/([^/]+)\/(\w+)$/.exec(r['Fn::Join'][1].at(-1)));
      expect(names.every((m: RegExpExecArray | null) => m?.[1] === STAGE)).toBe(true);
      const want: Record<string, string[]> = {
        IamRoleLambdaExecution:
          { session: ['CHATKIT_TOKEN_SECRET'], chat: ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET'] }[svc as 'chat'] ?? [],
        // INBOX_URL: a plain String the inbox stack writes (the lead's link to its page there).
        LeadFunctionRole: ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET', 'INBOX_URL', 'LEAD_WEBHOOK_SECRET'],
        SweeperFunctionRole: ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET', 'INBOX_URL', 'LEAD_WEBHOOK_SECRET'],
        SchedulerFunctionRole: ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET', 'INBOX_URL', 'LEAD_WEBHOOK_SECRET'],
        // The files function signs and checks links only.
        FilesFunctionRole: ['CHATKIT_TOKEN_SECRET'],
      };
      expect(names.map((m: RegExpExecArray) => m[2])).toEqual(want[id]);
    }
    for (const s of statements(t())) {
      expect(s.Resource).not.toContain('*');
      for (const a of s.Action) expect(a).not.toMatch(/^kms:|\*/);
    }
  });

  it('alarms on throttles of every function (the reserved concurrency is the only limit on the public URLs)', () => {
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    const fns = ofType(t(), 'AWS::Lambda::Function').map(([id]) => id);
    for (const fn of fns) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: 'Throttles',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        }),
      );
    }
  });

  it('traces every function with X-Ray (active) and may write its traces', () => {
    for (const [id, fn] of ofType(t(), 'AWS::Lambda::Function')) {
      expect([id, fn.Properties.TracingConfig]).toEqual([id, { Mode: 'Active' }]);
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      const all = t().Resources[roleId]!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
      expect(all.flatMap((x: any) => x.Action)).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    }
  });

  it('alarms on 500s and on upstream failures (502/503/504) it answered, which Lambda’s Errors never counts', () => {
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    for (const [metric, threshold] of [
      ['ServerErrors', 1],
      ['UpstreamFailures', 5],
    ] as const)
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'ChatkitLeadIntake',
          MetricName: metric,
          Dimensions: [
            { Name: 'service', Value: svc },
            { Name: 'stage', Value: STAGE },
          ],
          Threshold: threshold,
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        }),
      );
  });

  it('declares an alarm on function errors, sent to the alarm topic', () => {
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${Fn}LambdaFunction` } }],
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      }),
    );
    expect(t().Resources.AlarmEmailSubscription!.Condition).toBe('HasAlarmEmail');
    // A deployed stage's alarms reach someone (the resolver refuses one without alarmEmail).
    expect(settings.alarmSubscriptionEmail).toMatch(/@/);
    expect(t().Resources.AlarmEmailSubscription!.Properties).toMatchObject({ Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } });
    expect((t() as any).Parameters.AlarmEmail).toEqual({ Type: 'String', Default: settings.alarmSubscriptionEmail });
    // And only the shop's https sites may call it.
    expect(settings.allowedOrigins.every((o) => o.startsWith('https://') && !o.includes('localhost'))).toBe(true);
  });
});

describe('the lead stack', () => {
  const t = () => templates.lead!;

  it('runs the sweeper on the stage’s schedule, one at a time, with a retry policy and a dead-letter queue that alarms', () => {
    const rules = ofType(t(), 'AWS::Events::Rule').map(([, r]) => r.Properties);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ ScheduleExpression: settings.sweeperSchedule, State: 'ENABLED' });
    expect(rules[0].Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': ['SweeperLambdaFunction', 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 3 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['SweeperScheduleDeadLetterQueue', 'Arn'] } },
      }),
    ]);
    // Only that rule may put into the queue (and only over TLS).
    const [allow, tls] = t().Resources.SweeperScheduleDeadLetterQueuePolicy!.Properties.PolicyDocument.Statement;
    expect(allow).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(JSON.stringify(allow.Condition)).toContain(`:rule/${rules[0].Name}`);
    expect(tls).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['SweeperScheduleDeadLetterQueue', 'QueueName'] } }],
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      }),
    );
    expect(t().Resources.SweeperLambdaFunction!.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      ReservedConcurrentExecutions: 1,
      Timeout: 60,
    });
  });

  it('keeps the ledger table: Retain on delete and replace, TTL on ttl, on-demand, PITR, the sparse due index', () => {
    const [[, table]] = ofType(t(), 'AWS::DynamoDB::Table') as [[string, any]];
    expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    const p = table.Properties;
    expect(p.TableName).toBe(`chatkit-lead-intake-lead-${STAGE}-dedupe`);
    expect(p.KeySchema).toEqual([{ AttributeName: 'thread_id', KeyType: 'HASH' }]);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.GlobalSecondaryIndexes[0]).toMatchObject({
      IndexName: 'due-index',
      KeySchema: [
        { AttributeName: 'due_shard', KeyType: 'HASH' },
        { AttributeName: 'due_at', KeyType: 'RANGE' },
      ],
    });
    expect(t().Resources.LeadLambdaFunction!.Properties.Environment.Variables.LEAD_DEDUPE_TABLE_NAME).toBe(p.TableName);
  });

  it('runs each function as its own role, allowed only the calls its code makes', () => {
    const roles = ofType(t(), 'AWS::IAM::Role').map(([id]) => id);
    expect(roles.sort()).toEqual(['FilesFunctionRole', 'LeadFunctionRole', 'SchedulerFunctionRole', 'SweeperFunctionRole']);
    const ledgerWrite = 'dynamodb:UpdateItem';
    // Running a lead (endpoint, sweeper, scheduler): the ledger's writes, the day's summary counter,
    // the follow-up index, the chat table read-only, SES as the sender, the stage's secrets.
    // the follow-up index, the chat table read-only, the inbox's lead records (a put), SES as the sender, the stage's secrets.
    const runsLeads = [
      ledgerWrite,
      ledgerWrite,
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
    ];
    const common = [...runsLeads, 'ses:SendRawEmail', 'ssm:GetParameters'];
    expect(actions(statementsOf(t(), 'Lead'))).toEqual([...common, 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort());
    expect(actions(statementsOf(t(), 'Sweeper'))).toEqual(
      [...common, 'dynamodb:Query', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'].sort(),
    );
    expect(actions(statementsOf(t(), 'Scheduler'))).toEqual(
      [
        ...common,
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:DescribeStream',
        'dynamodb:ListStreams',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(actions(statementsOf(t(), 'Files'))).toEqual(['s3:GetObject', 'ssm:GetParameters']);
    // Where: the ledger table, only the sweeper on its sparse indexes; the contacts table; the chat table read-only.
    for (const fn of ['Lead', 'Sweeper', 'Scheduler']) {
      const dynamo = statementsOf(t(), fn).filter((x: any) => x.Action.some((a: string) => a.startsWith('dynamodb:')));
      expect(dynamo).toContainEqual(
        expect.objectContaining({ Action: [ledgerWrite], Resource: [{ 'Fn::GetAtt': ['LeadDedupeTable', 'Arn'] }] }),
      );
      expect(dynamo).toContainEqual(
        expect.objectContaining({ Action: [ledgerWrite], Resource: [{ 'Fn::GetAtt': ['LeadLimitsTable', 'Arn'] }] }),
      );
      expect(dynamo).toContainEqual(
        expect.objectContaining({
          Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
          Resource: [{ 'Fn::GetAtt': ['LeadContactsTable', 'Arn'] }],
        }),
      );
      expect(dynamo).toContainEqual(
        expect.objectContaining({ Action: ['dynamodb:PutItem'], Resource: [{ 'Fn::GetAtt': ['LeadInboxTable', 'Arn'] }] }),
      );
      const chat = dynamo.find((x: any) => JSON.stringify(x.Action) === JSON.stringify(['dynamodb:GetItem', 'dynamodb:Query']));
      expect(JSON.stringify(chat.Resource)).toContain(`:table/${settings.chatThreadsTable}`);
      const ses = statementsOf(t(), fn).filter((x: any) => x.Action.some((a: string) => a.startsWith('ses:')));
      const from = String(settings.leadFromEmail);
      expect(ses.flatMap((x: any) => x.Resource.map((r: any) => JSON.stringify(r)))).toEqual([
        expect.stringContaining(`:identity/${from}`),
        expect.stringContaining(`:identity/${from.split('@')[1]}`),
      ]);
    }
    const sweeperQuery = statementsOf(t(), 'Sweeper').find((x: any) => JSON.stringify(x.Action) === '["dynamodb:Query"]');
    expect(JSON.stringify(sweeperQuery.Resource)).toMatch(/due-index.*idle-index/);
    const stream = statementsOf(t(), 'Scheduler').find((x: any) => x.Action.includes('dynamodb:GetRecords'));
    expect(stream.Resource).toEqual([{ 'Fn::ImportValue': settings.chatThreadsStreamExport }]);
    // Each role writes its own function's log group only.
    for (const fn of ['lead', 'sweeper', 'scheduler', 'files']) {
      const role = t().Resources[`${fn[0]!.toUpperCase()}${fn.slice(1)}FunctionRole`]!;
      const logs = role.Properties.Policies[0].PolicyDocument.Statement.find((x: any) => x.Action.includes('logs:PutLogEvents'));
      expect(JSON.stringify(logs.Resource)).toContain(`:log-group:/aws/lambda/chatkit-lead-intake-lead-${STAGE}-${fn}:*`);
    }
  });

  it(
    'keeps refused triggers in an encrypted, TLS-only SQS spool with a ' +
      'dead-letter queue; the functions may only send, receive and delete there',
    () => {
      const spool = t().Resources.LeadSpoolQueue!;
      expect(spool.Type).toBe('AWS::SQS::Queue');
      expect(spool.Properties).toMatchObject({
        QueueName: `chatkit-lead-intake-lead-${STAGE}-trigger-spool`,
        MessageRetentionPeriod: 1209600,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['LeadSpoolDeadLetterQueue', 'Arn'] }, maxReceiveCount: 20 },
      });
      // Hidden while a sweeper runs it: longer than one lead run.
      expect(spool.Properties.VisibilityTimeout).toBeGreaterThan(t().Resources.LeadLambdaFunction!.Properties.Timeout);
      expect(t().Resources.LeadSpoolDeadLetterQueue!.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
      });
      const policy = t().Resources.LeadSpoolQueuePolicy!.Properties;
      expect(policy.Queues).toEqual([{ Ref: 'LeadSpoolQueue' }, { Ref: 'LeadSpoolDeadLetterQueue' }]);
      expect(policy.PolicyDocument.Statement).toEqual([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]);
      for (const fn of ['LeadLambdaFunction', 'SweeperLambdaFunction'])
        expect(t().Resources[fn]!.Properties.Environment.Variables.LEAD_SPOOL_QUEUE_NAME).toBe(spool.Properties.QueueName);
      const sqs = (fn: string) => statementsOf(t(), fn).filter((s: any) => s.Action.some((a: string) => a.startsWith('sqs:')));
      expect(sqs('Lead')).toEqual([
        expect.objectContaining({
          Action: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
          Resource: [{ 'Fn::GetAtt': ['LeadSpoolQueue', 'Arn'] }],
        }),
      ]);
      expect(sqs('Sweeper')).toEqual([
        expect.objectContaining({
          Action: ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
          Resource: [{ 'Fn::GetAtt': ['LeadSpoolQueue', 'Arn'] }],
        }),
      ]);
      // The scheduler's on-failure destination (Lambda sends there for it).
      expect(sqs('Scheduler')).toEqual([
        expect.objectContaining({ Action: ['sqs:SendMessage'], Resource: [{ 'Fn::GetAtt': ['SchedulerFailureQueue', 'Arn'] }] }),
      ]);
      const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['LeadSpoolQueue', 'QueueName'] } }],
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        }),
      );
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['LeadSpoolDeadLetterQueue', 'QueueName'] } }],
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        }),
      );
    },
  );

  it('schedules leads from the chat table’s stream: item inserts, 4 batches of a shard at once, retried from the failed one', () => {
    const chatTable = templates.chat!.Resources.ChatThreadsTable!.Properties;
    expect(chatTable.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(templates.chat!.Outputs.ChatThreadsStreamArn).toEqual({
      Value: { 'Fn::GetAtt': ['ChatThreadsTable', 'StreamArn'] },
      Export: { Name: settings.chatThreadsStreamExport },
    });
    const [mapping, ...more] = ofType(t(), 'AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
    expect(more).toEqual([]);
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::ImportValue': settings.chatThreadsStreamExport },
      FunctionName: { 'Fn::GetAtt': ['SchedulerLambdaFunction', 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      // Batches of a shard at once, split by thread (below the function's reserved concurrency).
      ParallelizationFactor: 4,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['SchedulerFailureQueue', 'Arn'] } } },
    });
    // One shard's batches at once never meet the function's own bound (they would be throttled and retried later).
    expect(t().Resources.SchedulerLambdaFunction!.Properties.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(
      mapping.ParallelizationFactor,
    );
    expect(JSON.parse(mapping.FilterCriteria.Filters[0].Pattern)).toEqual({
      eventName: ['INSERT'],
      dynamodb: { Keys: { sk: { S: [{ prefix: 'ITM#' }] } } },
    });
    const env = t().Resources.SchedulerLambdaFunction!.Properties.Environment.Variables;
    expect(env.LEAD_IDLE_SECONDS).toBe(String(settings.leadIdleSeconds));
    // The sweeper reads the idle index (it runs the armed idle evaluations).
    const ledgerTable = t().Resources.LeadDedupeTable!.Properties;
    expect(ledgerTable.GlobalSecondaryIndexes.map((i: any) => i.IndexName)).toEqual(['due-index', 'idle-index']);
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['SchedulerFailureQueue', 'QueueName'] } }],
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({ Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', AlarmActions: [{ Ref: 'AlarmTopic' }] }),
    );
  });

  it('texts the owner from the stage’s origination identity only, through a policy that exists only when the stage has one', () => {
    const policy = t().Resources.LeadSmsPolicy!;
    expect(policy).toMatchObject({ Type: 'AWS::IAM::Policy', Condition: 'HasSms' });
    expect(policy.Properties.Roles).toEqual([
      { Ref: 'LeadFunctionRole' },
      { Ref: 'SweeperFunctionRole' },
      { Ref: 'SchedulerFunctionRole' },
    ]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['sms-voice:SendTextMessage'], Resource: [{ Ref: 'SmsOriginationIdentity' }] },
    ]);
    expect((t() as any).Parameters.SmsOriginationIdentity.Default).toBe(settings.alertsEnv.LEAD_SMS_ORIGINATION_IDENTITY);
    expect((t() as any).Conditions.HasSms).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'SmsOriginationIdentity' }, ''] }] });
    // No SMS permission anywhere else, and the channels' settings reach every function that runs a
    // lead (each its own environment, from the channel registry), not the files function.
    expect(JSON.stringify(statements(t()))).not.toContain('sms-voice');
    const functions = ofType(t(), 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'FilesLambdaFunction',
      'LeadLambdaFunction',
      'SchedulerLambdaFunction',
      'SweeperLambdaFunction',
    ]);
    expect(functions.find(([id]) => id === 'FilesLambdaFunction')![1].Properties.Environment.Variables.LEAD_SMS_TO).toBeUndefined();
    for (const [, fn] of functions.filter(([id]) => id !== 'FilesLambdaFunction'))
      expect(fn.Properties.Environment.Variables).toMatchObject({
        LEAD_SMS_TO: settings.alertsEnv.LEAD_SMS_TO,
        LEAD_SMS_ORIGINATION_IDENTITY: settings.alertsEnv.LEAD_SMS_ORIGINATION_IDENTITY,
        LEAD_WEBHOOK_URL: settings.alertsEnv.LEAD_WEBHOOK_URL,
      });
  });

  it('alarms when over a fifth of the summaries fail in 15 minutes (with at least 5 made)', () => {
    const rate = t().Resources.SummaryFailureRateAlarm!.Properties;
    expect(rate).toMatchObject({ Threshold: 0.2, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [{ Ref: 'AlarmTopic' }] });
    const ids = rate.Metrics.map((m: any) => [m.Id, m.MetricStat?.Metric.MetricName ?? m.Expression, m.ReturnData]);
    expect(ids).toEqual([
      ['failures', 'SummaryFailures', false],
      ['made', 'Summaries', false],
      ['rate', 'IF(made >= 5, failures / made, 0)', true],
    ]);
  });

  it('declares alarms on SES failures, alert failures and on the ledger being unavailable', () => {
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    for (const metric of ['SesFailures', 'AlertFailures', 'LedgerUnavailable', 'LeadsFailed']) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'ChatkitLeadIntake',
          MetricName: metric,
          Dimensions: [
            { Name: 'service', Value: 'lead' },
            { Name: 'stage', Value: STAGE },
          ],
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        }),
      );
    }
  });
});

describe('the chat stack', () => {
  const t = () => templates.chat!;
  const table = (name: string) => ofType(t(), 'AWS::DynamoDB::Table').find(([id]) => id === name)![1] as any;

  it('keeps the thread table (Retain), with the per-user index and the retention TTL', () => {
    const threads = table('ChatThreadsTable');
    expect(threads.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(threads.UpdateReplacePolicy).toBe('Retain');
    expect(threads.Properties.TableName).toBe(settings.chatThreadsTable);
    expect(threads.Properties.GlobalSecondaryIndexes[0].IndexName).toBe('by-user');
    expect(threads.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(t().Resources.ChatLambdaFunction!.Properties.Environment.Variables).toMatchObject({
      CHAT_THREADS_TABLE_NAME: settings.chatThreadsTable,
      CHAT_LIMITS_TABLE_NAME: settings.chatLimitsTable,
      CHAT_RETENTION_DAYS: String(settings.chatRetentionDays),
      CHAT_TURNS_PER_MINUTE: String(settings.chatTurnsPerMinute),
      CHAT_DAILY_MODEL_CALLS: String(settings.chatDailyModelCalls),
      SECRETS_SSM_PATH: `/chatkit-lead-intake/${STAGE}/`,
    });
  });

  it('grants the store’s calls on the thread table and its index, and only increments on the usage table', () => {
    const limits = table('ChatLimitsTable');
    expect(limits.Properties).toMatchObject({
      TableName: settings.chatLimitsTable,
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    const dynamo = statements(t()).filter((s: any) => s.Action.some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo.map((s: any) => [s.Action, JSON.stringify(s.Resource)])).toEqual([
      [
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
        expect.stringContaining('ChatThreadsTable'),
      ],
      [['dynamodb:Query'], expect.stringMatching(/ChatThreadsTable.*by-user/)],
      [['dynamodb:UpdateItem'], expect.stringContaining('ChatLimitsTable')],
    ]);
  });

  it('alarms when chat turns fail after their answer began (3 in 5 minutes)', () => {
    expect(t().Resources.ChatTurnErrorsAlarm!.Properties).toMatchObject({
      Namespace: 'ChatkitLeadIntake',
      MetricName: 'ChatErrors',
      Dimensions: [
        { Name: 'service', Value: 'chat' },
        { Name: 'stage', Value: STAGE },
      ],
      Threshold: 3,
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('alarms when 80% of the day’s model calls are used', () => {
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ModelBudgetUsedPercent',
        Statistic: 'Maximum',
        Threshold: 80,
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      }),
    );
  });
});

describe('the session stack', () => {
  it('may only increment the new-users counter in the chat stack’s usage table', () => {
    const dynamo = statements(templates.session!).filter((s: any) => s.Action.some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo.map((s: any) => [s.Action, JSON.stringify(s.Resource)])).toEqual([
      [['dynamodb:UpdateItem'], expect.stringContaining(`:table/${settings.chatLimitsTable}`)],
    ]);
    expect(templates.session!.Resources.SessionLambdaFunction!.Properties.Environment.Variables).toMatchObject({
      CHATKIT_MODE: settings.chatkitMode,
      CHAT_LIMITS_TABLE_NAME: settings.chatLimitsTable,
      NEW_USERS_PER_SOURCE_IP_PER_HOUR: String(settings.newUsersPerSourceIpPerHour),
    });
  });
});

describe('the runbook', () => {
  it('has an entry for every alarm of the templates, and names no alarm they do not have', () => {
    const alarms = Object.values(templates).flatMap((t) => ofType(t, 'AWS::CloudWatch::Alarm').map(([id]) => id));
    const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
    const named = new Set([...runbook.matchAll(/`([A-Za-z]+Alarm)`/g)].map((m) => m[1]!));
    expect(alarms.filter((a) => !named.has(a))).toEqual([]);
    expect([...named].filter((n) => !alarms.includes(n))).toEqual([]);
    expect(alarms.length).toBeGreaterThan(15);
  });

  it('gives the reserved concurrency the templates reserve', () => {
    const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8').replace(/\s+/g, ' ');
    const m =
      /session (\d+), lead (\d+), chat (\d+), scheduler (\d+), files (\d+), inbox (\d+), and the sweeper (\d+)[^:]*: (\d+) in all/.exec(
        runbook,
      );
    expect(m).not.toBeNull();
    const reserved = (svc: string, fn: string) =>
      templates[svc]!.Resources[`${fn}LambdaFunction`]!.Properties.ReservedConcurrentExecutions as number;
    const inTemplates = [
      reserved('session', 'Session'),
      reserved('lead', 'Lead'),
      reserved('chat', 'Chat'),
      reserved('lead', 'Scheduler'),
      reserved('lead', 'Files'),
      reserved('inbox', 'Inbox'),
      reserved('lead', 'Sweeper'),
    ];
    expect(m!.slice(1, 8).map(Number)).toEqual(inTemplates);
    expect(Number(m![8])).toBe(inTemplates.reduce((a, b) => a + b, 0));
  });
});

describe('customers’ photos and files', () => {
  it('one private bucket per stage: public access blocked, encrypted, TLS only, CORS from the stage’s origins, lifecycle by tag', () => {
    const bucket = templates.chat!.Resources.ChatAttachmentsBucket!;
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('RetainExceptOnCreate');
    const p = bucket.Properties;
    expect(p.BucketName).toEqual({ 'Fn::Sub': `chatkit-lead-intake-\${AWS::AccountId}-${STAGE}-files` });
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(p.CorsConfiguration.CorsRules).toEqual([
      {
        AllowedOrigins: settings.allowedOrigins,
        AllowedMethods: ['PUT', 'GET'],
        AllowedHeaders: ['content-type', 'if-none-match'],
        MaxAge: 300,
      },
    ]);
    const rules = Object.fromEntries(p.LifecycleConfiguration.Rules.map((r: any) => [r.Id, r]));
    expect(rules.unattached).toMatchObject({ Status: 'Enabled', TagFilters: [{ Key: 'attached', Value: 'no' }], ExpirationInDays: 1 });
    expect(rules.attached).toMatchObject({
      Status: 'Enabled',
      TagFilters: [{ Key: 'attached', Value: 'yes' }],
      ExpirationInDays: settings.chatRetentionDays,
    });
    const policy = templates.chat!.Resources.ChatAttachmentsBucketPolicy!.Properties.PolicyDocument.Statement;
    expect(policy).toEqual([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
    const env = templates.chat!.Resources.ChatLambdaFunction!.Properties.Environment.Variables;
    expect(env).toMatchObject({
      CHAT_ATTACHMENTS_BUCKET: p.BucketName,
      CHAT_ATTACHMENT_MAX_BYTES: String((settings.attachments as any).maxBytes),
      CHAT_ATTACHMENT_MAX_PER_MESSAGE: String((settings.attachments as any).maxPerMessage),
      CHAT_ATTACHMENT_TYPES: settings.attachmentTypesCsv,
    });
  });

  it('the chat may put, tag, read and delete under attachments/ only (and list that prefix for 404s); the lead may only read', () => {
    const s3 = (t: Template) => statements(t).filter((s: any) => s.Action.some((a: string) => a.startsWith('s3:')));
    const under = { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ChatAttachmentsBucket', 'Arn'] }, '/attachments/*']] };
    expect(s3(templates.chat!)).toEqual([
      expect.objectContaining({ Action: ['s3:PutObject', 's3:PutObjectTagging', 's3:GetObject', 's3:DeleteObject'], Resource: [under] }),
      expect.objectContaining({
        Action: ['s3:ListBucket'],
        Resource: [{ 'Fn::GetAtt': ['ChatAttachmentsBucket', 'Arn'] }],
        Condition: { StringLike: { 's3:prefix': ['attachments/*'] } },
      }),
    ]);
    expect(s3(templates.lead!)).toEqual([
      expect.objectContaining({
        Action: ['s3:GetObject'],
        Resource: [{ 'Fn::Sub': `arn:aws:s3:::chatkit-lead-intake-\${AWS::AccountId}-${STAGE}-files/attachments/*` }],
      }),
    ]);
  });

  it('the email’s links go through the files function’s own URL (GET, no CORS), which every sending function knows', () => {
    const t = templates.lead!;
    expect(t.Resources.FilesLambdaFunctionUrl!.Properties).toMatchObject({ AuthType: 'NONE' });
    expect(t.Resources.FilesLambdaFunctionUrl!.Properties.Cors).toBeUndefined();
    for (const fn of ['LeadLambdaFunction', 'SweeperLambdaFunction', 'SchedulerLambdaFunction'])
      expect(t.Resources[fn]!.Properties.Environment.Variables).toMatchObject({
        LEAD_FILES_URL: { 'Fn::GetAtt': ['FilesLambdaFunctionUrl', 'FunctionUrl'] },
        LEAD_FILE_LINK_DAYS: String((settings.attachments as any).linkDays),
      });
    // Not its own: a function's environment naming its own URL would be a dependency cycle.
    expect(t.Resources.FilesLambdaFunction!.Properties.Environment.Variables.LEAD_FILES_URL).toBeUndefined();
  });
});

describe('alarms that belong to their stage', () => {
  it.each(['session', 'lead', 'chat'])('%s: every alarm on the project’s own metrics reads this stage’s only', (s) => {
    const dims: unknown[] = [];
    const walk = (x: any): void => {
      if (!x || typeof x !== 'object') return;
      if (x.Namespace === 'ChatkitLeadIntake') dims.push(x.Dimensions);
      Object.values(x).forEach(walk);
    };
    for (const [, a] of ofType(templates[s]!, 'AWS::CloudWatch::Alarm')) walk(a.Properties);
    expect(dims.length).toBeGreaterThan(0);
    for (const d of dims) expect(d).toContainEqual({ Name: 'stage', Value: STAGE });
  });
});

describe('cfn-lint (on the machine image) on the packaged templates', () => {
  it.each(['session', 'lead', 'chat'])(
    '%s: no error, warning or informational finding',
    async (s) => {
      const file = join(ROOT, 'services', s, '.serverless', 'cloudformation-template-update-stack.json');
      const run = promisify(execFile)('cfn-lint', ['--format', 'parseable', '--', file], { timeout: 120_000 });
      const res = await run.catch((e: NodeJS.ErrnoException & { stdout?: string; stderr?: string }) => {
        if (e.code === 'ENOENT')
          throw new Error('cfn-lint is not installed (it is on the machine image; `pip install cfn-lint` elsewhere)');
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      });
      expect(res.stdout.trim()).toBe('');
    },
    130_000,
  );
});

describe('the inbox stack', () => {
  const t = () => templates.inbox!;

  it('serves its pages from a Function URL without CORS (same-origin pages only), nodejs22.x, 256 MB, 10 s', () => {
    const url = t().Resources.InboxLambdaFunctionUrl!.Properties;
    expect(url.AuthType).toBe('NONE');
    expect(url.Cors).toBeUndefined();
    const fn = t().Resources.InboxLambdaFunction!.Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', MemorySize: 256, Timeout: 10, ReservedConcurrentExecutions: 5 });
    expect(fn.Environment.Variables).toMatchObject({
      INBOX_LEADS_TABLE: settings.inboxLeadsTable,
      INBOX_OWNERS: settings.inboxOwnersCsv,
      INBOX_SECURE_COOKIES: 'true',
      INBOX_FILES_URL: { 'Fn::ImportValue': `chatkit-lead-intake-lead-${STAGE}-files-url` },
    });
    // Its address for the lead service's links: an SSM String the lead functions may read.
    expect(t().Resources.InboxUrlParameter!.Properties).toMatchObject({ Name: `/chatkit-lead-intake/${STAGE}/INBOX_URL`, Type: 'String' });
  });

  it('may make only the calls its code makes, on its own tables, the lead records and read-only elsewhere', () => {
    const ss = statements(t());
    expect(actions(ss)).toEqual(
      [
        'ssm:GetParameters',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:BatchGetItem',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'ses:SendRawEmail',
      ].sort(),
    );
    const ssm = ss.find((x: any) => x.Action.includes('ssm:GetParameters'));
    expect(JSON.stringify(ssm.Resource)).toContain(`/chatkit-lead-intake/${STAGE}/CHATKIT_TOKEN_SECRET`);
    expect(ssm.Resource).toHaveLength(1);
    const ledger = ss.find((x: any) => JSON.stringify(x.Action) === '["dynamodb:BatchGetItem"]');
    expect(JSON.stringify(ledger.Resource)).toContain(`:table/${settings.leadLedgerTable}`);
    for (const x of ss) expect(JSON.stringify(x.Resource)).not.toMatch(/"\*"/);
  });

  it('alarms on errors, 500s and refusals, to its own topic', () => {
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect(alarms.sort()).toEqual(['InboxErrorsAlarm', 'InboxRefusalsAlarm', 'InboxServerErrorsAlarm']);
  });
});
