/** A search request the Search service would refuse (an unknown query type, a bad query string, ...). */
export class SearchError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'SearchError';
  }
}
