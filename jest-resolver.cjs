// middy 7 only exports an `import` condition; Jest's CommonJS mode must ask for it explicitly.
module.exports = (request, options) =>
  options.defaultResolver(request, /^@middy\//.test(request) ? { ...options, conditions: ['import', 'node', 'default'] } : options);
