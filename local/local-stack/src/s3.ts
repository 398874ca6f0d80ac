import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @20minutes/s3rver: the maintained fork of s3rver (Node >= 20). It checks SigV4 signatures,
// presigned query ones included (the signed content-type and content-length of an upload, the
// expiry), and answers CORS preflights from the bucket's CORS rules: what the browser upload
// depends on. Why this one: docs/local-development.md.
import S3rver from '@20minutes/s3rver';
import AWSAccount from '@20minutes/s3rver/lib/models/account';
import S3Error from '@20minutes/s3rver/lib/models/error';
import { LOCAL_ACCOUNT_ID } from './intrinsics';
import type { QueueDefinition } from './service-config';

export interface RunningS3 {
  endpoint: string;
  buckets: string[];
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A bucket's CorsConfiguration (CloudFormation) as the S3 XML s3rver reads. */
export function corsXml(cors: { CorsRules?: Array<Record<string, any>> } | undefined): string | null {
  if (!cors?.CorsRules?.length) return null;
  const rules = cors.CorsRules.map((r) => {
    const many = (tag: string, xs: unknown[] | undefined) => (xs ?? []).map((x) => `<${tag}>${xmlEscape(String(x))}</${tag}>`).join('');
    return (
      '<CORSRule>' +
      many('AllowedOrigin', r.AllowedOrigins) +
      many('AllowedMethod', r.AllowedMethods) +
      many('AllowedHeader', r.AllowedHeaders) +
      many('ExposeHeader', r.ExposedHeaders) +
      (r.MaxAge !== undefined ? `<MaxAgeSeconds>${Number(r.MaxAge)}</MaxAgeSeconds>` : '') +
      '</CORSRule>'
    );
  }).join('');
  return `<CORSConfiguration>${rules}</CORSConfiguration>`;
}

/**
 * S3's conditional write (`If-None-Match: *`: the upload is refused with 412 when the object
 * exists), which s3rver lacks: the store its object controller writes through is wrapped for such
 * a request, so the signature is checked first, as S3 does. (Not atomic: two uploads at the same
 * instant may both pass; S3 lets one win.)
 */
async function conditionalPut(ctx: any, next: () => Promise<unknown>) {
  if (ctx.method === 'PUT' && ctx.get('if-none-match') === '*' && !ctx.get('x-amz-copy-source')) {
    const store = ctx.store;
    ctx.store = Object.create(store, {
      putObject: {
        value: async (object: { bucket: string; key: string }) => {
          if (await store.existsObject(object.bucket, object.key))
            throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
              Condition: 'If-None-Match',
            });
          return store.putObject(object);
        },
      },
    });
  }
  return next();
}

/**
 * The S3 stand-in with the services' buckets (their names and CORS rules as the deploy declares
 * them), data in a fresh temporary folder. It accepts the local stack's credentials (`local`).
 */
export async function startS3(host: string, port: number, buckets: QueueDefinition[]): Promise<RunningS3> {
  if (!AWSAccount.registry.has('local')) new AWSAccount(Number(LOCAL_ACCOUNT_ID), 'local').createKeyPair('local', 'local');
  const configured = buckets.map(({ logicalId, properties: p }) => {
    const name = p.BucketName;
    if (typeof name !== 'string')
      throw new Error(`Bucket ${logicalId} needs a literal BucketName on a local stage (stages.config.json attachmentsBucketRef).`);
    const cors = corsXml(p.CorsConfiguration);
    return { name, configs: cors ? [Buffer.from(cors)] : [] };
  });
  const dir = mkdtempSync(join(tmpdir(), 'local-s3-'));
  const server = new S3rver({ port, address: host, silent: true, directory: dir, configureBuckets: configured, resetOnClose: true });
  server.middleware.unshift(conditionalPut);
  await server.run();
  return {
    endpoint: `http://${host}:${port}`,
    buckets: configured.map((b) => b.name),
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
