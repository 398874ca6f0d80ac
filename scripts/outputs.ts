/**
 * `npm run outputs -- --stage <stage> [--out <file>] [--region <region>]`
 * Writes the JSON the frontend reads (a drop-in for amplify_outputs.json):
 *   {"custom": {"chatkit_session_url": "...", "chatkit_lead_email_url": "...", "chatkit_api_url": "...", "inbox_url": "..."}}
 * (the session, lead, chat and owner's inbox URLs: FUNCTION_URLS in local/local-stack/src/config.ts, as `npm run dev` writes them)
 * from the deployed stacks' outputs (CloudFormation DescribeStacks, with your AWS credentials).
 */
import { failure, helpIfAsked } from './cli';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { FUNCTION_URLS } from '@lead-intake/local-stack/config';
import { discoverServices } from '@lead-intake/local-stack/service-config';
import { resolveStage } from '@lead-intake/stage-config';

// The Lambdas run Node 22; this tool runs on the machine's Node (20.19+), where the AWS SDK warns
// about its own future Node requirement on every run. Not actionable here: silenced.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The service name from serverless.yml (its first `service:` line): the stack is `<service>-<stage>`. */
function serviceName(dir: string): string {
  const m = /^service:\s*([A-Za-z0-9-]+)\s*$/m.exec(readFileSync(join(dir, 'serverless.yml'), 'utf8'));
  if (!m) throw new Error(`${dir}/serverless.yml has no service name`);
  return m[1]!;
}

/** Function names with a URL, per service: the functions the frontend calls. */
function urlFunctions(dir: string): string[] {
  const yml = readFileSync(join(dir, 'serverless.yml'), 'utf8');
  const hasUrl = (fn: string) => new RegExp(`^  ${fn}:\\n(?:    .*\\n)*?    url:`, 'm').test(yml);
  return Object.keys(FUNCTION_URLS).filter((fn) => FUNCTION_URLS[fn]!.output && hasUrl(fn));
}

async function main() {
  const stage = arg('stage');
  if (!stage) throw new Error('usage: npm run outputs -- --stage <stage> [--out <file>] [--region <region>]');
  const region = arg('region') ?? process.env.AWS_REGION ?? resolveStage(stage).region;
  const cf = new CloudFormationClient({ region });
  const custom: Record<string, string> = {};
  for (const dir of discoverServices()) {
    const fns = urlFunctions(dir);
    if (!fns.length) continue;
    const stack = `${serviceName(dir)}-${stage}`;
    let outputs;
    try {
      outputs = (await cf.send(new DescribeStacksCommand({ StackName: stack }))).Stacks?.[0]?.Outputs ?? [];
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      throw new Error(
        /does not exist/.test(msg)
          ? `Stack ${stack} does not exist in ${region}: deploy it first (npx sls deploy --stage ${stage}).`
          : `DescribeStacks ${stack} failed: ${msg}`,
      );
    }
    for (const fn of fns) {
      const key = `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunctionUrl`;
      const url = outputs.find((o) => o.OutputKey === key)?.OutputValue;
      if (!url) throw new Error(`Stack ${stack} has no output ${key}.`);
      custom[FUNCTION_URLS[fn]!.output!] = url;
    }
  }
  const out = arg('out');
  if (!out) {
    process.stdout.write(`${JSON.stringify({ custom }, null, 2)}\n`);
    return;
  }
  // The frontend's amplify_outputs.json holds other keys too (auth, storage...): only ours change.
  let existing: Record<string, any> = {};
  if (existsSync(out)) {
    try {
      existing = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      throw new Error(`${out} is not JSON; fix or remove it (nothing was written)`);
    }
  }
  const merged = { ...existing, custom: { ...(existing.custom ?? {}), ...custom } };
  writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
  console.error(`wrote ${out} (${Object.keys(custom).length} URLs; other keys kept)`);
}

helpIfAsked(__filename);
main().catch((e) => failure('outputs', e));
