import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { checkLink, objectKey, S3FileStore } from '@lead-intake/attachments';
import type { SecretsContext } from '@lead-intake/config';
import { ID } from '@lead-intake/chatkit-protocol';
import { HttpError, httpErrors, methodGuard } from '@lead-intake/http';
import { answerClasses, injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { lead } from './instance';

const { logger, metrics, settings } = lead;

// A redirect lives this long: the mail client fetches the image at once; a click opens it at once.
const REDIRECT_SECONDS = 300;
let files: S3FileStore | undefined;

/**
 * The lead email's links to customers' photos and files (docs/backend.md, "Attachments"): a GET
 * with the link's signed query (thread, attachment, expiry) answers a redirect to a presigned S3
 * URL of five minutes. A link names one file of one thread and is signed with the stage's token
 * secret, so it cannot be turned into another; a bad or altered one is 404, an expired one 410.
 * Never logs the link's signature.
 */
export const handler = middy<LambdaFunctionURLEvent, LambdaFunctionURLResult, Error, SecretsContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(answerClasses(metrics))
  .use(httpErrors({ onUnexpected: (e) => logger.error('file link failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['GET', 'HEAD']))
  .use(lead.secrets(['CHATKIT_TOKEN_SECRET']))
  .handler(async (event, context) => {
    const bucket = settings.attachments.bucket;
    if (!bucket) throw new HttpError(404, 'Not found.', 'not_found');
    const query = (event.queryStringParameters ?? {}) as Record<string, string | undefined>;
    const checked = checkLink(query, context.secrets.CHATKIT_TOKEN_SECRET!, Math.floor(Date.now() / 1000));
    if (!checked.ok) {
      metrics.addMetric('FileLinksRefused', MetricUnit.Count, 1);
      // The link's thread id only when it has an id's shape (a client-chosen string is never logged as sent).
      logger.warn('file link refused', { reason: checked.reason, threadId: query.t && ID.test(query.t) ? query.t : null });
      if (checked.reason === 'expired')
        throw new HttpError(
          410,
          'This link has expired. The conversation is kept in the shop’s records; ask for the file again.',
          'expired',
          {},
          { expose: true },
        );
      throw new HttpError(404, 'Not found.', 'not_found');
    }
    const { threadId, attachmentId } = checked.link;
    const url = await (files ??= new S3FileStore(bucket)).readUrl(objectKey(attachmentId), REDIRECT_SECONDS);
    logger.info('file link followed', { threadId, attachmentId });
    return {
      statusCode: 302,
      headers: { location: url, 'cache-control': `private, max-age=${REDIRECT_SECONDS - 60}`, 'referrer-policy': 'no-referrer' },
      body: '',
    };
  });
