import { ConfigError, HttpError, UpstreamError } from './index';

/** A second copy of this module, as a test registry or a second bundle may load it. */
function otherCopy(): typeof import('./index') {
  let copy: typeof import('./index') | undefined;
  jest.isolateModules(() => {
    copy = require('./index');
  });
  return copy!;
}

class NotFound extends HttpError {
  constructor() {
    super(404, 'no such thing');
  }
}

describe('the three bases', () => {
  it('are told apart with instanceof, also across two copies of the module', () => {
    const other = otherCopy();
    expect(other.HttpError).not.toBe(HttpError); // really a second copy
    const http = new other.HttpError(400, 'bad');
    const upstream = new other.UpstreamError('dynamodb', 'down');
    const config = new other.ConfigError('X', 'missing');
    expect([http instanceof HttpError, http instanceof UpstreamError, http instanceof ConfigError]).toEqual([true, false, false]);
    expect([upstream instanceof HttpError, upstream instanceof UpstreamError, upstream instanceof ConfigError]).toEqual([
      false,
      true,
      false,
    ]);
    expect([config instanceof HttpError, config instanceof UpstreamError, config instanceof ConfigError]).toEqual([false, false, true]);
    expect(new HttpError(500, 'x') instanceof other.HttpError).toBe(true);
  });

  it('keep subclasses precise: a base instance is not an instance of its subclass', () => {
    expect(new NotFound() instanceof HttpError).toBe(true);
    expect(new NotFound() instanceof NotFound).toBe(true);
    expect(new HttpError(404, 'x') instanceof NotFound).toBe(false);
    expect(new Error('x') instanceof HttpError).toBe(false);
    expect({ statusCode: 400, expose: true, code: 'bad_request' } instanceof HttpError).toBe(false);
    expect((null as unknown) instanceof HttpError).toBe(false);
  });
});
