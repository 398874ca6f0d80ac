export { startSqsEmulator, ACCOUNT_ID, type RunningSqsEmulator, type SqsEmulatorOptions } from './server';
export { Queue, QueueError, type Message, type QueueAttributes } from './queue';
