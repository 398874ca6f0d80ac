/** The HTTP answer errors: the base class lives in @lead-intake/errors with the other two kinds. */
export { HttpError, badRequest } from '@lead-intake/errors';
