import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for SSM Parameter Store's GetParameters (the AWS JSON 1.1 protocol), so the
 * real @aws-sdk/client-ssm and @middy/ssm can be tested over HTTP. Point AWS_ENDPOINT_URL_SSM at it.
 */
export interface SsmStandIn {
  endpoint: string;
  requests: Array<{ target: string; body: any }>;
  params: Map<string, string>;
  close(): Promise<void>;
}

export async function startSsmStandIn(params: Record<string, string>): Promise<SsmStandIn> {
  const state = { requests: [] as Array<{ target: string; body: any }>, params: new Map(Object.entries(params)) };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = raw ? JSON.parse(raw) : {};
      state.requests.push({ target, body });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'AmazonSSM.GetParameters') {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: `${target} is not served by the stand-in` }));
        return;
      }
      const names: string[] = body.Names ?? [];
      res.end(
        JSON.stringify({
          Parameters: names
            .filter((n) => state.params.has(n))
            .map((n) => ({
              Name: n,
              Type: 'SecureString',
              Value: state.params.get(n),
              Version: 1,
              ARN: `arn:aws:ssm:us-west-2:000000000000:parameter${n}`,
              DataType: 'text',
            })),
          InvalidParameters: names.filter((n) => !state.params.has(n)),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ...state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
