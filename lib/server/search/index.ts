// The Search service's query language evaluated on one document at a time: what the query
// service does for SEARCH() when no Search index answers it (see ../n1ql/search.ts).
export { compileSearch, type Matcher, type SearchOptions } from './query';
export { DocView, ALL_FIELDS } from './document';
export { SearchError } from './errors';
export { analyzerNamed, type Token } from './analysis';
