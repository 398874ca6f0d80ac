export { HttpError, badRequest } from './errors';
export { originPolicy, methodGuard, jsonBody, httpErrors, jsonResponse, header, parseAllowedOrigins } from './middleware';
export type { OriginPolicyOptions, JsonBodyOptions, HttpErrorsOptions } from './middleware';
export type { LambdaFunctionURLEvent as UrlEvent, LambdaFunctionURLResult as UrlResult, Context } from 'aws-lambda';
export { USER_ID, MAX_URL_LENGTH, UNSAFE_TEXT, UNSAFE_TEXT_ALL, httpUrlOrNull, optionalUserId, optionalPageUrl } from './fields';
