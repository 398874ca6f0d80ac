import middy from '@middy/core';
import { httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';

export const handler = middy()
  .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS) }))
  .use(httpErrors())
  .use(methodGuard(['POST']))
  .use(jsonBody())
  .handler(async () => jsonResponse(200, { ok: true, service: 'lead' }));
