/**
 * Configuration for the handlers, read in one place. Settings come from the function's
 * environment (set by serverless.yml from stages.config.json); secrets come from `secrets()`.
 */
export {
  ConfigError,
  intSetting,
  stringSetting,
  listSetting,
  chatkitModeSetting,
  openaiBudgetSetting,
  type ChatkitMode,
  type OpenAIBudgetSetting,
} from './settings';
export { secrets, readSecrets, lazySecret, type SecretsContext, type SecretsOptions } from './secrets';
