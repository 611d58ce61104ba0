// A generated stand-in for Couchbase's beer-sample bucket: the same document shapes (breweries
// and beers, linked by brewery_id), about the same counts (≈1,412 breweries, ≈5,891 beers), and
// the `beer` design document with `brewery_beers` and `by_location`. Deterministic for a seed.

import { prng } from './prng';

export interface BeerSampleOptions {
  /** PRNG seed (default 1). The same seed and scale always give the same documents. */
  seed?: number;
  /** Multiplies the document counts (default 1). */
  scale?: number;
}

export const BEER_SAMPLE_BREWERIES = 1412;
export const BEER_SAMPLE_BEERS = 5891;

interface Place {
  country: string;
  state: string;
  cities: Array<[city: string, lat: number, lon: number, code: string, phonePrefix: string]>;
}

const PLACES: Place[] = [
  { country: 'United States', state: 'California', cities: [['San Francisco', 37.7749, -122.4194, '94107', '1-415-'], ['San Diego', 32.7157, -117.1611, '92101', '1-619-'], ['Chico', 39.7285, -121.8375, '95928', '1-530-'], ['Paso Robles', 35.6266, -120.691, '93446', '1-805-']] },
  { country: 'United States', state: 'Oregon', cities: [['Portland', 45.5152, -122.6784, '97209', '1-503-'], ['Bend', 44.0582, -121.3153, '97702', '1-541-'], ['Newport', 44.6368, -124.0535, '97365', '1-541-']] },
  { country: 'United States', state: 'Colorado', cities: [['Denver', 39.7392, -104.9903, '80202', '1-303-'], ['Boulder', 40.015, -105.2705, '80301', '1-303-'], ['Fort Collins', 40.5853, -105.0844, '80524', '1-970-']] },
  { country: 'United States', state: 'Michigan', cities: [['Kalamazoo', 42.2917, -85.5872, '49007', '1-269-'], ['Grand Rapids', 42.9634, -85.6681, '49503', '1-616-']] },
  { country: 'United States', state: 'New York', cities: [['Brooklyn', 40.6782, -73.9442, '11211', '1-718-'], ['Cooperstown', 42.7006, -74.9243, '13326', '1-607-']] },
  { country: 'United States', state: 'Pennsylvania', cities: [['Philadelphia', 39.9526, -75.1652, '19123', '1-215-'], ['Pottsville', 40.6856, -76.1955, '17901', '1-570-']] },
  { country: 'United States', state: 'Wisconsin', cities: [['Milwaukee', 43.0389, -87.9065, '53204', '1-414-'], ['Chippewa Falls', 44.9369, -91.3929, '54729', '1-715-']] },
  { country: 'United States', state: 'Texas', cities: [['Austin', 30.2672, -97.7431, '78701', '1-512-'], ['Shiner', 29.4291, -97.1706, '77984', '1-361-']] },
  { country: 'Canada', state: 'Ontario', cities: [['Toronto', 43.6532, -79.3832, 'M5V', '1-416-'], ['Guelph', 43.5448, -80.2482, 'N1H', '1-519-']] },
  { country: 'Canada', state: 'Quebec', cities: [['Montréal', 45.5017, -73.5673, 'H2X', '1-514-'], ['Chambly', 45.4497, -73.2874, 'J3L', '1-450-']] },
  { country: 'Belgium', state: 'Oost-Vlaanderen', cities: [['Gent', 51.0543, 3.7174, '9000', '32-9-'], ['Melle', 51.0, 3.8, '9090', '32-9-']] },
  { country: 'Belgium', state: 'Namur', cities: [['Dinant', 50.2606, 4.9122, '5500', '32-82-']] },
  { country: 'Germany', state: 'Bayern', cities: [['München', 48.1351, 11.582, '80331', '49-89-'], ['Bamberg', 49.8988, 10.9028, '96047', '49-951-'], ['Freising', 48.4029, 11.7488, '85354', '49-8161-']] },
  { country: 'Germany', state: 'Nordrhein-Westfalen', cities: [['Köln', 50.9375, 6.9603, '50667', '49-221-'], ['Düsseldorf', 51.2277, 6.7735, '40213', '49-211-']] },
  { country: 'United Kingdom', state: 'England', cities: [['London', 51.5074, -0.1278, 'W4 2QB', '44-20-'], ['Tadcaster', 53.8835, -1.2625, 'LS24 9SB', '44-1937-']] },
  { country: 'United Kingdom', state: 'Scotland', cities: [['Edinburgh', 55.9533, -3.1883, 'EH1', '44-131-'], ['Ellon', 57.3654, -2.0712, 'AB41', '44-1358-']] },
  { country: 'Ireland', state: '', cities: [['Dublin', 53.3498, -6.2603, '8', '353-1-'], ['Cork', 51.8985, -8.4756, '', '353-21-']] },
  { country: 'Netherlands', state: 'Noord-Holland', cities: [['Amsterdam', 52.3676, 4.9041, '1012', '31-20-']] },
  { country: 'Czech Republic', state: '', cities: [['Plzeň', 49.7384, 13.3736, '301 00', '420-377-'], ['České Budějovice', 48.9745, 14.4743, '370 01', '420-387-']] },
  { country: 'Japan', state: 'Tokyo', cities: [['Tokyo', 35.6762, 139.6503, '104', '81-3-']] },
  { country: 'Australia', state: 'New South Wales', cities: [['Sydney', -33.8688, 151.2093, '2000', '61-2-']] },
  { country: 'Mexico', state: 'Distrito Federal', cities: [['Mexico City', 19.4326, -99.1332, '', '52-55-']] },
];

const NAME_FIRST = ['Red', 'Stone', 'River', 'Golden', 'Black', 'Iron', 'Old', 'Lost', 'Wild', 'Happy', 'Big', 'North', 'Copper', 'Silver', 'Blue', 'Cedar', 'Harbor', 'Mountain', 'Valley', 'Lakefront', 'Twin', 'Crooked', 'Dog', 'Rogue', 'Flying', 'Brass', 'Sierra', 'Anchor', 'Granite', 'Hop', 'Barley', 'Saint', 'Abbey', 'Royal', 'Great', 'Half', 'Oak', 'Pine', 'Summit', 'Bear'];
const NAME_SECOND = ['Rock', 'Creek', 'Horse', 'Fish', 'Hill', 'Bridge', 'Moon', 'Star', 'Dog', 'Goat', 'Eagle', 'Wolf', 'Coast', 'Falls', 'Lake', 'Harbor', 'Trail', 'Island', 'Canyon', 'Forge', 'Mill', 'Barn', 'Head', 'Point', 'Gate', 'Ridge', 'Tree', 'Peak', 'Bay', 'Crown'];
const NAME_KIND = ['Brewing Company', 'Brewery', 'Brewing Co.', 'Brewpub', 'Beer Company', 'Ales', 'Brewery & Pub', 'Brauerei', 'Brasserie', 'Brewhouse'];
const STREETS = ['Main Street', 'Second Street', 'Mill Road', 'Harbor Way', 'Industrial Avenue', 'Market Street', 'Brewery Lane', 'Station Road', 'Church Street', 'River Road'];

const STYLES: Array<[style: string, category: string, abvLow: number, abvHigh: number]> = [
  ['American-Style India Pale Ale', 'North American Ale', 5.5, 7.5],
  ['American-Style Pale Ale', 'North American Ale', 4.5, 6],
  ['American-Style Amber/Red Ale', 'North American Ale', 4.5, 6.5],
  ['American-Style Stout', 'North American Ale', 5.5, 8],
  ['Imperial or Double India Pale Ale', 'North American Ale', 7.5, 10.5],
  ['Golden or Blonde Ale', 'North American Ale', 4, 5.5],
  ['Light American Wheat Ale or Lager', 'Other Style', 3.8, 5],
  ['Fruit Beer', 'Other Style', 4, 6],
  ['Porter', 'Irish Ale', 5, 6.5],
  ['Irish-Style Red Ale', 'Irish Ale', 4, 5],
  ['Classic English-Style Pale Ale', 'British Ale', 4.5, 5.5],
  ['Scotch Ale', 'British Ale', 6.5, 9],
  ['Old Ale', 'British Ale', 6, 9],
  ['Belgian-Style Pale Ale', 'Belgian and French Ale', 4, 6],
  ['Belgian-Style Tripel', 'Belgian and French Ale', 7, 10],
  ['Belgian-Style Dubbel', 'Belgian and French Ale', 6, 7.5],
  ['Belgian-Style Fruit Lambic', 'Belgian and French Ale', 5, 7],
  ['German-Style Pilsener', 'German Lager', 4, 5],
  ['Oktoberfest', 'German Lager', 5.3, 6.2],
  ['Traditional German-Style Bock', 'German Lager', 6.3, 7.5],
  ['South German-Style Hefeweizen', 'German Ale', 4.9, 5.5],
  ['German-Style Brown Ale/Altbier', 'German Ale', 4.3, 5.5],
  ['American-Style Lager', 'North American Lager', 4.1, 5.1],
  ['Vienna-Style Lager', 'Other Lager', 4.5, 5.5],
  ['American-Style Light Lager', 'North American Lager', 3.5, 4.4],
];
const BEER_WORDS = ['IPA', 'Pale', 'Stout', 'Porter', 'Lager', 'Ale', 'Wheat', 'Bock', 'Tripel', 'Amber', 'Red', 'Blonde', 'Reserve', 'Special', 'Winter', 'Summer', 'Harvest', 'Imperial', 'Double', 'Dark', 'Hoppy', 'Nut Brown', 'Pilsner', 'Saison', 'Barleywine'];
const BEER_ADJ = ['Hop', 'Golden', 'Midnight', 'Old', 'Wild', 'Big', 'Little', 'Lucky', 'Smoked', 'Honey', 'Raspberry', 'Oatmeal', 'Coffee', 'Pumpkin', 'Cherry', 'Velvet', 'Thunder', 'Sunset', 'Liberty', 'Bitter'];
const DESC_BITS = [
  'Brewed with a blend of pale and crystal malts.',
  'A generous late addition of hops gives a floral, citrus aroma.',
  'Deep amber in colour with a creamy head.',
  'Crisp, clean and refreshing; a beer for warm days.',
  'Roasted barley brings notes of coffee and dark chocolate.',
  'Fermented with a traditional house yeast strain.',
  'Aged on oak for three months.',
  'Our brewpub offers a variety of award winning house made brews.',
  'Family owned since the nineteenth century.',
  'Join us in the beer garden before and after the game.',
];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)];
}

function slug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function timestamp(rnd: () => number): string {
  const ms = Date.UTC(2010, 5, 1) + Math.floor(rnd() * 500 * 86400) * 1000;
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function description(rnd: () => number): string {
  const n = Math.floor(rnd() * 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(pick(rnd, DESC_BITS));
  return parts.join(' ');
}

/** The documents of a beer-sample bucket, breweries first then beers. */
export function* beerSampleDocs(options: BeerSampleOptions = {}): Generator<{ id: string; value: unknown }> {
  const rnd = prng(options.seed ?? 1);
  const scale = options.scale ?? 1;
  const breweryCount = Math.max(1, Math.round(BEER_SAMPLE_BREWERIES * scale));
  const beerCount = Math.round(BEER_SAMPLE_BEERS * scale);

  const breweryIds: string[] = [];
  const taken = new Set<string>();
  for (let i = 0; i < breweryCount; i++) {
    const place = pick(rnd, PLACES);
    const [city, lat, lon, code, phonePrefix] = pick(rnd, place.cities);
    const name = rnd() < 0.3 ? `${city} ${pick(rnd, NAME_KIND)}` : `${pick(rnd, NAME_FIRST)} ${pick(rnd, NAME_SECOND)} ${pick(rnd, NAME_KIND)}`;
    let id = slug(name);
    for (let n = 2; taken.has(id); n++) id = `${slug(name)}_${n}`;
    taken.add(id);
    breweryIds.push(id);
    const doc: Record<string, unknown> = {
      name,
      city,
      state: place.state,
      code,
      country: place.country,
      phone: rnd() < 0.85 ? `${phonePrefix}${String(1000000 + Math.floor(rnd() * 8999999)).replace(/(\d{3})(\d{4})$/, '$1-$2')}` : '',
      website: rnd() < 0.8 ? `http://www.${id.replace(/_/g, '')}.com/` : '',
      type: 'brewery',
      updated: timestamp(rnd),
      description: description(rnd),
      address: rnd() < 0.92 ? [`${1 + Math.floor(rnd() * 2000)} ${pick(rnd, STREETS)}`] : [],
    };
    if (rnd() < 0.88) {
      doc.geo = {
        accuracy: pick(rnd, ['ROOFTOP', 'RANGE_INTERPOLATED', 'APPROXIMATE', 'GEOMETRIC_CENTER']),
        lat: Math.round((lat + (rnd() - 0.5) * 0.1) * 1e4) / 1e4,
        lon: Math.round((lon + (rnd() - 0.5) * 0.1) * 1e4) / 1e4,
      };
    }
    yield { id, value: doc };
  }

  const beerIds = new Set<string>();
  for (let i = 0; i < beerCount; i++) {
    // Skewed towards the first breweries, as real brewers differ a lot in range size.
    const breweryId = breweryIds[Math.floor(breweryIds.length * rnd() ** 1.6)];
    const name = rnd() < 0.5 ? `${pick(rnd, BEER_ADJ)} ${pick(rnd, BEER_WORDS)}` : `${pick(rnd, NAME_SECOND)} ${pick(rnd, BEER_WORDS)}`;
    let id = `${breweryId}-${slug(name)}`;
    for (let n = 2; beerIds.has(id); n++) id = `${breweryId}-${slug(name)}_${n}`;
    beerIds.add(id);
    const [style, category, lo, hi] = pick(rnd, STYLES);
    const doc: Record<string, unknown> = {
      name,
      abv: rnd() < 0.9 ? Math.round((lo + rnd() * (hi - lo)) * 10) / 10 : 0,
      ibu: rnd() < 0.1 ? Math.floor(10 + rnd() * 80) : 0,
      srm: rnd() < 0.1 ? Math.floor(2 + rnd() * 38) : 0,
      upc: rnd() < 0.03 ? Math.floor(rnd() * 1e9) : 0,
      type: 'beer',
      brewery_id: breweryId,
      updated: timestamp(rnd),
      description: description(rnd),
    };
    if (rnd() < 0.85) {
      doc.style = style;
      doc.category = category;
    }
    yield { id, value: doc };
  }
}

/** The index Couchbase Server creates when it loads beer-sample: a primary index, so N1QL works at once. */
export const beerSampleIndexes: string[] = ['CREATE PRIMARY INDEX beer_primary ON `beer-sample`'];

/** The beer-sample design documents (name -> body), as the real sample bucket ships them in spirit. */
export const beerSampleDesignDocs: Readonly<Record<string, { views: Record<string, { map: string; reduce?: string }> }>> = {
  beer: {
    views: {
      brewery_beers: {
        map: [
          'function (doc, meta) {',
          '  if (doc.type === "brewery") {',
          '    emit([meta.id]);',
          '  } else if (doc.type === "beer" && doc.brewery_id) {',
          '    emit([doc.brewery_id, meta.id]);',
          '  }',
          '}',
        ].join('\n'),
      },
      by_location: {
        map: [
          'function (doc, meta) {',
          '  if (doc.city) {',
          '    emit([doc.country, doc.state, doc.city], 1);',
          '  } else if (doc.state) {',
          '    emit([doc.country, doc.state], 1);',
          '  } else if (doc.country) {',
          '    emit([doc.country], 1);',
          '  }',
          '}',
        ].join('\n'),
        reduce: '_count',
      },
    },
  },
};
