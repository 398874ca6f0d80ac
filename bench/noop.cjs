// The floor of every cold start: a Node process that loads nothing and answers at once.
exports.handler = async () => ({ statusCode: 200, body: '{}' });
