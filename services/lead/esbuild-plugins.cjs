// esbuild plugins for this service's bundles (custom.esbuild.plugins; the local stack uses them too).
const { lazyChunks, openaiResources, zodLocales } = require('@lead-intake/bundling');

// The OpenAI resources this service calls: hosted threads (client.beta.chatkit.threads) and the structured summary
// (client.responses.parse). Of zod's locales, only English (its schemas' own messages; nothing sets another).
// The pipeline's libraries load with the pipeline, past the ledger: a duplicate trigger's cold start
// does not compile them (docs/performance.md).
module.exports = [
  openaiResources({ keep: ['beta/beta', 'beta/chatkit', 'responses'] }),
  zodLocales({ keep: ['en'] }),
  lazyChunks({ packages: { libs: ['zod', 'openai', 'libphonenumber-js', 'luxon'] } }),
];
