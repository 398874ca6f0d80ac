// esbuild plugins for this service's bundles (custom.esbuild.plugins; the local stack uses them too).
const { openaiResources } = require('@lead-intake/bundling');

// The OpenAI resources this service calls: the assistant's streamed answer (client.responses.create).
module.exports = [openaiResources({ keep: ['responses'] })];
