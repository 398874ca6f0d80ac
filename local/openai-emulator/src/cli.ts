import { startEmulator } from './server';

// Standalone: `tsx local/openai-emulator/src/cli.ts` (the local stack starts it for you).
const port = Number(process.env.OPENAI_EMULATOR_PORT ?? 3110);
const host = process.env.LOCAL_HOST ?? '127.0.0.1';
startEmulator({ host, port }).then((emu) => {
  console.log(`openai-emulator listening at ${emu.baseURL}`);
  const stop = () => emu.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
