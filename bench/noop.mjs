// The floor of every cold start: a Node process that loads nothing and answers at once.
export const handler = async () => ({ statusCode: 200, body: '{}' });
