import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * For the tests of the lead functions: the webhook document's published JSON Schema
 * (docs/lead-webhook.schema.json), compiled by ajv, an independent validator. No entry point imports it.
 */
export const validateLeadDocument = (() => {
  const schema = JSON.parse(readFileSync(join(__dirname, '../../../docs/lead-webhook.schema.json'), 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
})();
