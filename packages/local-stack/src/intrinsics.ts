/**
 * The few CloudFormation intrinsics the deploy uses in values the local stack needs (function
 * environments, bucket names), resolved as they would be in the local account: `Fn::Sub` over the
 * pseudo parameters, and a function's own URL (`Fn::GetAtt [<Fn>LambdaFunctionUrl, FunctionUrl]`,
 * or a local stage's `local-function-url:<fn>`).
 * Anything else is not resolved (the caller says so rather than guessing).
 */
export interface LocalAccount {
  accountId: string;
  region: string;
  /** Function name -> its local URL. */
  functionUrls: Record<string, string>;
}

export { LOCAL_ACCOUNT_ID } from '@lead-intake/stage-config';

/** A local stage's stand-in for a function's URL (stages.config.json cannot know the local port). */
const LOCAL_FUNCTION_URL = /^local-function-url:([a-z][a-z0-9-]*)$/;

export function resolveLocal(value: unknown, account: LocalAccount): string | undefined {
  if (typeof value === 'string') {
    const fn = LOCAL_FUNCTION_URL.exec(value)?.[1];
    return fn ? account.functionUrls[fn] : value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['Fn::Sub'] === 'string') {
    const out = (v['Fn::Sub'] as string)
      .replaceAll('${AWS::AccountId}', account.accountId)
      .replaceAll('${AWS::Region}', account.region)
      .replaceAll('${AWS::Partition}', 'aws');
    return out.includes('${') ? undefined : out;
  }
  const att = v['Fn::GetAtt'];
  if (Array.isArray(att) && att[1] === 'FunctionUrl' && typeof att[0] === 'string' && att[0].endsWith('LambdaFunctionUrl')) {
    const logical = att[0].slice(0, -'LambdaFunctionUrl'.length);
    const name = Object.keys(account.functionUrls).find((n) => n.charAt(0).toUpperCase() + n.slice(1) === logical);
    return name ? account.functionUrls[name] : undefined;
  }
  return undefined;
}
