// esbuild plugins for this service's bundles (custom.esbuild.plugins; the local stack uses them too).
const { lazyChunks, openaiResources } = require('@lead-intake/bundling');

module.exports = [
  // The OpenAI resources this service calls: the assistant's streamed answer (client.responses.create).
  openaiResources({ keep: ['responses'] }),
  // What a turn needs only after its first byte, in files of their own (compiled when first used, not
  // on every cold start before the first byte): the OpenAI SDK (the model is asked after the
  // message's event) and the S3 presigner (a turn with photos); libphonenumber, which only the
  // callback form's actions use (reached through import()); luxon, which only the shop state and the
  // intake tools use, reached through import() once the model is asked (chat-server/model-tools.ts).
  lazyChunks({
    chunks: { openai: '@lead-intake/openai-client', presigner: '@aws-sdk/s3-request-presigner' },
    packages: { phone: ['libphonenumber-js'], time: ['luxon'] },
  }),
];
