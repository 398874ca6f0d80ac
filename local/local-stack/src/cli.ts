import { join } from 'node:path';
import { configFromEnv } from './config';
import { LOCAL_DIR } from './paths';
import { startLocalStack } from './stack';

/** `npm run dev`: starts the whole local stack in the foreground; Ctrl-C or SIGTERM stops all of it. */
// Lambda runs Node 22; the SDK's warning about this machine's Node 20 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main() {
  const cfg = configFromEnv(process.env, join(LOCAL_DIR, 'outputs.json'));
  const started = Date.now();
  const stack = await startLocalStack(cfg);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack...`);
    await stack.stop();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // npm does not always pass SIGTERM on to its script: if whoever started us goes away, stop too.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void shutdown('parent exited'), 500).unref();
  if (cfg.outputsFile) console.log(`Outputs          ${cfg.outputsFile}`);
  console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s: press Ctrl-C to stop`);
}

main().catch((e) => {
  console.error(`local stack failed to start: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
