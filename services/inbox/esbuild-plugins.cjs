// esbuild plugins for this service's bundles (custom.esbuild.plugins; the local stack uses them too).
const { zodLocales } = require('@lead-intake/bundling');

// The inbox never calls OpenAI. It checks stored summaries against the summary's zod schema, whose
// messages are English: zod's other locales stay out.
module.exports = [zodLocales({ keep: ['en'] })];
