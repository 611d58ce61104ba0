import { expect } from 'chai';
import { beerSampleDesignDocs, beerSampleDocs, BEER_SAMPLE_BEERS, BEER_SAMPLE_BREWERIES } from '../../lib/server/samples/beer-sample';
import { putDesignDoc } from '../../lib/server/views';
import { query, startViewsServer, type ViewsServer } from './helpers';

describe('views: beer-sample', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = [...beerSampleDocs({ seed: 3, scale: 0.05 })];
    const b = [...beerSampleDocs({ seed: 3, scale: 0.05 })];
    const c = [...beerSampleDocs({ seed: 4, scale: 0.05 })];
    expect(a).to.deep.equal(b);
    expect(a).to.not.deep.equal(c);
  });

  it('has the beer-sample shapes and counts: breweries and beers linked by brewery_id', () => {
    const docs = [...beerSampleDocs()];
    const breweries = docs.filter((d) => (d.value as any).type === 'brewery');
    const beers = docs.filter((d) => (d.value as any).type === 'beer');
    expect(breweries).to.have.length(BEER_SAMPLE_BREWERIES);
    expect(beers).to.have.length(BEER_SAMPLE_BEERS);
    expect(new Set(docs.map((d) => d.id)).size).to.equal(docs.length);
    const breweryIds = new Set(breweries.map((d) => d.id));
    const beerKeys = ['name', 'abv', 'ibu', 'srm', 'upc', 'brewery_id', 'updated', 'description'];
    const misfits = beers.filter((beer) => {
      const v = beer.value as any;
      return !breweryIds.has(v.brewery_id) || !beer.id.startsWith(`${v.brewery_id}-`) || beerKeys.some((k) => !(k in v));
    });
    expect(misfits).to.deep.equal([]);
    expect(breweries[0].value).to.include.keys('name', 'city', 'state', 'code', 'country', 'phone', 'website', 'updated', 'description', 'address');
    expect(beers.filter((b) => (b.value as any).style).length).to.be.greaterThan(BEER_SAMPLE_BEERS * 0.7);
  });

  describe('with the beer design document', () => {
    let s: ViewsServer;
    before(async () => {
      s = await startViewsServer({ buckets: ['beer-sample'] });
      for (const { id, value } of beerSampleDocs()) s.putDoc(id, value);
      for (const [name, body] of Object.entries(beerSampleDesignDocs)) putDesignDoc(s.store, name, body);
    });
    after(() => s.close());

    it('brewery_beers lists each brewery followed by its beers', async () => {
      const r = await query(s, 'beer', 'brewery_beers', { limit: 20, include_docs: 'true' });
      expect(r.status).to.equal(200);
      expect(r.json.total_rows).to.equal(BEER_SAMPLE_BREWERIES + BEER_SAMPLE_BEERS);
      const first = r.json.rows[0];
      expect(first.key).to.deep.equal([first.id]);
      expect(first.doc.json.type).to.equal('brewery');
      for (const row of r.json.rows.slice(1)) {
        if (row.key.length === 2) {
          expect(row.key[1]).to.equal(row.id);
          expect(row.doc.json.type).to.equal('beer');
          expect(row.doc.json.brewery_id).to.equal(row.key[0]);
        } else {
          expect(row.doc.json.type).to.equal('brewery');
        }
      }
    });

    it('by_location counts breweries per country, state and city', async () => {
      const r = await query(s, 'beer', 'by_location', { group_level: 1 });
      const total = r.json.rows.reduce((n: number, row: any) => n + row.value, 0);
      expect(total).to.equal(BEER_SAMPLE_BREWERIES);
      expect(r.json.rows.map((row: any) => row.key[0])).to.include('United States');
    });
  });
});
