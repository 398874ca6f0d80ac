// esbuild plugins for this service's bundles (custom.esbuild.plugins; the local stack uses them too).
// The inbox never calls OpenAI: no plugin needed; the file is here so that every service builds alike.
module.exports = [];
