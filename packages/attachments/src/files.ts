import type { S3Client } from '@aws-sdk/client-s3';

/**
 * Where attachment bytes live: one private S3 bucket per stage. The browser uploads straight to
 * S3 with a presigned PUT (the ChatKit client's `two_phase` upload); everything the server hands
 * out is a short-lived presigned URL. Objects are tagged `attached=no` on upload and
 * `attached=yes` once sent in a message: the bucket's lifecycle deletes the first after a day and
 * the second with the conversations' retention.
 */
export interface FileStore {
  /**
   * The presigned PUT for a new object: the declared size and type are signed in, so nothing else
   * can be uploaded, and so is `If-None-Match: *`, so the object cannot be replaced once uploaded
   * (a sent photo is what the lead links to).
   */
  uploadDescriptor(key: string, mimeType: string, size: number): Promise<{ url: string; method: 'PUT'; headers: Record<string, string> }>;
  /** A short-lived presigned GET (previews, the model's image input, the lead email's redirect). */
  readUrl(key: string, seconds?: number): Promise<string>;
  /** The object's size, or null when nothing was uploaded. */
  size(key: string): Promise<number | null>;
  /** The object's size and first bytes (one ranged read), or null when nothing was uploaded. */
  probe(key: string, bytes: number): Promise<{ size: number; head: Uint8Array } | null>;
  /** The object is part of a conversation now: kept with the conversation's retention. */
  markAttached(key: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** The object key of an attachment: the id is random and never reused. */
export const objectKey = (attachmentId: string) => `attachments/${attachmentId}`;

export const UPLOAD_URL_SECONDS = 15 * 60;
export const READ_URL_SECONDS = 15 * 60;

export class S3FileStore implements FileStore {
  private client?: Promise<{
    s3: S3Client;
    mod: typeof import('@aws-sdk/client-s3');
    sign: typeof import('@aws-sdk/s3-request-presigner').getSignedUrl;
  }>;

  constructor(
    readonly bucket: string,
    private readonly make?: () => S3Client,
  ) {}

  /** The client on first use: a turn without attachments never loads the S3 SDK. */
  private load() {
    return (this.client ??= (async () => {
      const [mod, presigner] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
      const s3 =
        this.make?.() ??
        new mod.S3Client({
          // A local S3 stand-in (AWS_ENDPOINT_URL_S3) answers on one host: path-style addressing.
          forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3),
          // Without this the SDK signs a checksum of an empty body into presigned PUTs, and S3
          // rejects the browser's upload of the real bytes.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 3,
        });
      return { s3, mod, sign: presigner.getSignedUrl };
    })());
  }

  async uploadDescriptor(key: string, mimeType: string, size: number) {
    const { s3, mod, sign } = await this.load();
    const url = await sign(
      s3,
      new mod.PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: mimeType,
        ContentLength: size,
        Tagging: 'attached=no',
        IfNoneMatch: '*',
      }),
      { expiresIn: UPLOAD_URL_SECONDS, signableHeaders: new Set(['content-type', 'content-length', 'if-none-match']) },
    );
    return { url, method: 'PUT' as const, headers: { 'content-type': mimeType, 'if-none-match': '*' } };
  }

  async readUrl(key: string, seconds = READ_URL_SECONDS) {
    const { s3, mod, sign } = await this.load();
    return sign(s3, new mod.GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: seconds });
  }

  async size(key: string) {
    const { s3, mod } = await this.load();
    try {
      return (await s3.send(new mod.HeadObjectCommand({ Bucket: this.bucket, Key: key }))).ContentLength ?? 0;
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw e;
    }
  }

  async probe(key: string, bytes: number) {
    const { s3, mod } = await this.load();
    try {
      const out = await s3.send(new mod.GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
      const head = await out.Body!.transformToByteArray();
      // "bytes 0-15/12345": the whole object's size after the slash.
      const total = Number(/\/(\d+)$/.exec(out.ContentRange ?? '')?.[1] ?? out.ContentLength ?? head.length);
      return { size: total, head };
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return null;
      if (status === 416) return { size: 0, head: new Uint8Array() }; // an empty object has no first byte
      throw e;
    }
  }

  async markAttached(key: string) {
    const { s3, mod } = await this.load();
    await s3.send(
      new mod.PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet: [{ Key: 'attached', Value: 'yes' }] } }),
    );
  }

  /** Writes a file that is already part of a conversation (npm run export-hosted-threads copies hosted files). */
  async putAttached(key: string, body: Uint8Array, mimeType: string) {
    const { s3, mod } = await this.load();
    await s3.send(new mod.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: mimeType }));
    await this.markAttached(key);
  }

  async remove(key: string) {
    const { s3, mod } = await this.load();
    await s3.send(new mod.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
