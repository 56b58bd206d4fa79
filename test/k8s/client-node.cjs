// Jest only (moduleNameMapper in jest.config.js): @kubernetes/client-node is ESM-only and jest's CommonJS
// runtime cannot load ESM, so this loads it with Node's own require (Node >= 20.19 requires ESM natively).
module.exports = process.getBuiltinModule('node:module').createRequire(__filename)('@kubernetes/client-node');
