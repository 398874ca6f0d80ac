import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqsEmulator, type RunningSqsEmulator } from './index';

/** The emulator through the real AWS SDK v3 client over HTTP (its JSON protocol and MD5 checks). */
let emu: RunningSqsEmulator;
let sqs: SQSClient;

beforeAll(async () => {
  emu = await startSqsEmulator();
  sqs = new SQSClient({ endpoint: emu.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  sqs.destroy();
  await emu.close();
});

const attrs = async (QueueUrl: string) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!;

it('sends and receives with the MD5 the SDK checks; a received message is hidden until deleted or its timeout passes', async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'basic', Attributes: { VisibilityTimeout: '1' } }));
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"thread":"é"}' }));
  expect(sent.MessageId).toBeTruthy();
  const first = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
  );
  expect(first.Messages).toHaveLength(1);
  expect(first.Messages![0]!.Body).toBe('{"thread":"é"}');
  expect(first.Messages![0]!.Attributes?.ApproximateReceiveCount).toBe('1');
  expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
  expect(await attrs(QueueUrl!)).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' });
  // Back after the visibility timeout, with a new receipt handle and a higher count.
  const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 3, MessageSystemAttributeNames: ['All'] }));
  expect(again.Messages![0]!.Attributes?.ApproximateReceiveCount).toBe('2');
  expect(again.Messages![0]!.ReceiptHandle).not.toBe(first.Messages![0]!.ReceiptHandle);
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages![0]!.ReceiptHandle }));
  expect(await attrs(QueueUrl!)).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
});

it('delays a message, long-polls until it is visible, and lets a receiver give one back at once', async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'delayed' }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 1 }));
  expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
  expect((await attrs(QueueUrl!)).ApproximateNumberOfMessagesDelayed).toBe('1');
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, VisibilityTimeout: 60 }));
  expect(got.Messages![0]!.Body).toBe('later');
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: got.Messages![0]!.ReceiptHandle, VisibilityTimeout: 0 }));
  expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages?.[0]?.Body).toBe('later');
});

it('moves a message received more often than the redrive policy allows to the dead-letter queue', async () => {
  const { QueueUrl: dlq } = await sqs.send(new CreateQueueCommand({ QueueName: 'dead' }));
  const arn = (await attrs(dlq!)).QueueArn!;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'redriven',
      Attributes: { VisibilityTimeout: '0', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 2 }) },
    }),
  );
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));
  expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages).toHaveLength(1);
  expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages).toHaveLength(1);
  expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
  expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq }))).Messages?.[0]?.Body).toBe('poison');
});

it('answers SQS errors the SDK maps to its exception classes', async () => {
  await expect(
    sqs.send(new SendMessageCommand({ QueueUrl: `${emu.endpoint}/000000000000/nope`, MessageBody: 'x' })),
  ).rejects.toBeInstanceOf(QueueDoesNotExist);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'errors' }));
  await expect(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'bad \u0001 char' }))).rejects.toMatchObject({
    name: 'InvalidMessageContents',
  });
  await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 }))).rejects.toMatchObject({
    $metadata: { httpStatusCode: 400 },
  });
  await expect(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'garbage' }))).rejects.toMatchObject({
    name: 'ReceiptHandleIsInvalid',
  });
});
