/** The local stack's public API (`npm run dev` is src/cli.ts; the bench and tests start it the same way). */
export { startLocalStack, type RunningStack } from './stack';
export { discoverServices, resolveService, type ResolvedService } from './service-config';
export { configFromEnv, FUNCTION_URLS, PORT_VARS, LOCAL_TOKEN_SECRET, type LocalStackConfig } from './config';
export { LOCAL_DIR, REPO_ROOT } from './paths';
export { startDynamo, type RunningDynamo } from './dynamodb';
export { localFunction } from './invoke';
export { LocalFunction, type InvokeOutcome, type InvokeInfo } from './function-url';
