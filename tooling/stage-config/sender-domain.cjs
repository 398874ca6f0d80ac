// The domain of the stage's sender address: the SES identity may be the address or its domain.
const { resolveStage } = require('./resolve.cjs');

module.exports = async ({ options, resolveVariable }) => {
  const stage = options.stage || (await resolveVariable('sls:stage'));
  const from = resolveStage(stage).leadFromEmail;
  const at = String(from).lastIndexOf('@');
  if (at < 1) throw new Error(`stages.config.json: leadFromEmail '${from}' is not an email address`);
  return from.slice(at + 1);
};
