// A serverless `${file(...)}` source: `custom.stage: ${file(../../tooling/stage-config/serverless.cjs)}`.
// Plain CommonJS because serverless requires it directly.
const { resolveStage } = require('./resolve.cjs');

module.exports = async ({ options, resolveVariable }) => {
  const stage = options.stage || (await resolveVariable('sls:stage'));
  return resolveStage(stage);
};
