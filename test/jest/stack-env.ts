/** Ports of the stack that the test run starts (distinct from `npm run dev`'s, so both can run). */
export const TEST_STACK_ENV = {
  LOCAL_HOST: '127.0.0.1',
  LOCAL_DYNAMODB_PORT: '18000',
  LOCAL_SES_PORT: '18005',
  LOCAL_SQS_PORT: '18006',
  LOCAL_S3_PORT: '18007',
  LOCAL_ALERTS_PORT: '18008',
  LOCAL_OPENAI_PORT: '13110',
  LOCAL_SESSION_PORT: '13101',
  LOCAL_LEAD_PORT: '13102',
  LOCAL_CHAT_PORT: '13103',
  LOCAL_FILES_PORT: '13104',
  LOCAL_INBOX_PORT: '13105',
  LOCAL_SCHEDULE_SECONDS: '0',
  // The scheduler (server-scheduled leads) would evaluate every test's conversations too: its own tests start a stack with it on.
  LOCAL_STREAMS: '0',
} as const;
