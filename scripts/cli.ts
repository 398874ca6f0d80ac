import { readFileSync } from 'node:fs';

/**
 * What every command-line tool here does the same way: `--help` (or `-h`) prints the usage from the
 * top comment of the script and exits 0; a failure is one line, naming the tool, and a missing AWS
 * credential says exactly that (not an outage of whatever the tool was reaching).
 */
export function helpIfAsked(scriptFile: string): void {
  if (!process.argv.slice(2).some((a) => a === '--help' || a === '-h')) return;
  const src = readFileSync(scriptFile, 'utf8');
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(src)?.[1] ?? '';
  console.log(
    doc
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''))
      .join('\n')
      .trim(),
  );
  process.exit(0);
}

const CREDENTIALS = /CredentialsProviderError|Could not load credentials|ExpiredToken|InvalidClientTokenId|UnrecognizedClientException/;

/** The error as the one line a person reads, with the exit code: 1, or 2 for a usage error. */
export function failure(tool: string, e: unknown, stage?: string): never {
  const err = e as Error & { cause?: Error };
  const text = `${err?.name ?? ''} ${err?.message ?? String(e)} ${err?.cause?.name ?? ''} ${err?.cause?.message ?? ''}`;
  if (CREDENTIALS.test(text))
    console.error(
      `${tool}: no usable AWS credentials${stage ? ` for stage '${stage}'` : ''}: ` +
        'set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or use --stage local for the local stack',
    );
  else console.error(`${tool}: ${err instanceof Error ? err.message : String(e)}`);
  process.exit(1);
}
