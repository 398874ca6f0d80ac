// esbuild plugins for this service's bundles (custom.esbuild.plugins; the local stack uses them too).
const { openaiResources } = require('@lead-intake/bundling');

// The OpenAI resources this service calls: ChatKit sessions (client.beta.chatkit.sessions).
module.exports = [openaiResources({ keep: ['beta/beta', 'beta/chatkit'] })];
