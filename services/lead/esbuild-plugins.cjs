// esbuild plugins for this service's bundles (custom.esbuild.plugins; the local stack uses them too).
const { openaiResources } = require('@lead-intake/bundling');

// The OpenAI resources this service calls: hosted threads (client.beta.chatkit.threads) and the structured summary
// (client.responses.parse).
module.exports = [openaiResources({ keep: ['beta/beta', 'beta/chatkit', 'responses'] })];
