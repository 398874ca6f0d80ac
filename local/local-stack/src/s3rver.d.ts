// The parts of @20minutes/s3rver (no bundled types) the local stack uses.
declare module '@20minutes/s3rver' {
  export default class S3rver {
    constructor(options: {
      port?: number;
      address?: string;
      silent?: boolean;
      directory: string;
      resetOnClose?: boolean;
      configureBuckets?: Array<{ name: string; configs?: Buffer[] }>;
    });
    /** Koa's middleware list (s3rver is a Koa application). */
    middleware: Array<(ctx: any, next: () => Promise<unknown>) => unknown>;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
declare module '@20minutes/s3rver/lib/models/account' {
  export default class AWSAccount {
    static registry: Map<string, AWSAccount>;
    constructor(accountId: number, displayName: string);
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
}
declare module '@20minutes/s3rver/lib/models/error' {
  export default class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
  }
}
