// The shared public types every flavour re-exports, so that switching flavour is switching
// the import path: N1QLQuery, view constants, errors, results, formats.
export * from '../../lib/index';
