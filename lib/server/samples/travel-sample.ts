// A generated stand-in for Couchbase's travel-sample bucket: airlines, airports, routes between
// them, hotels with reviews and landmarks, with the real sample's field names and roughly its
// counts (187 airlines, 1,968 airports, 24,024 routes, 917 hotels, 4,495 landmarks = 31,591
// documents), plus the def_* index statements the real sample ships with. Deterministic per seed.

import { prng } from './prng';

export interface TravelSampleOptions {
  /** PRNG seed (default 1). The same seed and scale always give the same documents. */
  seed?: number;
  /** Multiplies the document counts (default 1). */
  scale?: number;
}

export const TRAVEL_SAMPLE_COUNTS = { airline: 187, airport: 1968, route: 24024, hotel: 917, landmark: 4495 } as const;

/** The `inventory` scope's collections of the 7.x sample: each holds the documents of its `type`. */
export const TRAVEL_SAMPLE_INVENTORY = ['airline', 'airport', 'hotel', 'landmark', 'route'] as const;

/** The real sample's indexes on its default collection (Couchbase Server 6.x/7.x); 7.x adds travelSampleInventoryIndexes. */
export const travelSampleIndexes: string[] = [
  'CREATE PRIMARY INDEX def_primary ON `travel-sample`',
  'CREATE INDEX def_airportname ON `travel-sample`(airportname)',
  'CREATE INDEX def_city ON `travel-sample`(city)',
  'CREATE INDEX def_faa ON `travel-sample`(faa)',
  'CREATE INDEX def_icao ON `travel-sample`(icao)',
  'CREATE INDEX def_name_type ON `travel-sample`(name) WHERE (_type = "User")',
  'CREATE INDEX def_route_src_dst_day ON `travel-sample`(sourceairport, destinationairport, DISTINCT ARRAY v.day FOR v IN schedule END) WHERE (type = "route")',
  'CREATE INDEX def_schedule_utc ON `travel-sample`(ARRAY s.utc FOR s IN schedule END)',
  'CREATE INDEX def_sourceairport ON `travel-sample`(sourceairport)',
  'CREATE INDEX def_type ON `travel-sample`(type)',
];

const inventoryKs = (c: string): string => `\`travel-sample\`.inventory.${c}`;

/** The 7.x sample's def_inventory_* indexes on the inventory collections (what Couchbase Server 7.6 creates when it loads the sample). */
export const travelSampleInventoryIndexes: string[] = [
  ...TRAVEL_SAMPLE_INVENTORY.map((c) => `CREATE PRIMARY INDEX def_inventory_${c}_primary ON ${inventoryKs(c)}`),
  `CREATE INDEX def_inventory_airport_airportname ON ${inventoryKs('airport')}(airportname)`,
  `CREATE INDEX def_inventory_airport_city ON ${inventoryKs('airport')}(city)`,
  `CREATE INDEX def_inventory_airport_faa ON ${inventoryKs('airport')}(faa)`,
  `CREATE INDEX def_inventory_hotel_city ON ${inventoryKs('hotel')}(city)`,
  `CREATE INDEX def_inventory_landmark_city ON ${inventoryKs('landmark')}(city)`,
  `CREATE INDEX def_inventory_route_route_src_dst_day ON ${inventoryKs('route')}(sourceairport, destinationairport, DISTINCT ARRAY v.day FOR v IN schedule END)`,
  `CREATE INDEX def_inventory_route_schedule_utc ON ${inventoryKs('route')}(ARRAY s.utc FOR s IN schedule END)`,
  `CREATE INDEX def_inventory_route_sourceairport ON ${inventoryKs('route')}(sourceairport)`,
];

/** Statements that make the 7.x sample's scope and collections (run before its documents are loaded). */
export const travelSampleCollections: string[] = ['CREATE SCOPE `travel-sample`.inventory', ...TRAVEL_SAMPLE_INVENTORY.map((c) => `CREATE COLLECTION ${inventoryKs(c)}`)];

/** Where a travel-sample document also goes in 7.x: `inventory.<type>` for the five inventory types. */
export function travelSampleCollectionOf(doc: { value: unknown }): string | undefined {
  const type = (doc.value as { type?: unknown }).type;
  return typeof type === 'string' && (TRAVEL_SAMPLE_INVENTORY as readonly string[]).includes(type) ? `inventory.${type}` : undefined;
}

type City = [city: string, state: string | null, lat: number, lon: number, tz: string];

const COUNTRIES: Record<string, City[]> = {
  'United States': [
    ['San Francisco', 'California', 37.7749, -122.4194, 'America/Los_Angeles'],
    ['Los Angeles', 'California', 34.0522, -118.2437, 'America/Los_Angeles'],
    ['San Diego', 'California', 32.7157, -117.1611, 'America/Los_Angeles'],
    ['Seattle', 'Washington', 47.6062, -122.3321, 'America/Los_Angeles'],
    ['Denver', 'Colorado', 39.7392, -104.9903, 'America/Denver'],
    ['Chicago', 'Illinois', 41.8781, -87.6298, 'America/Chicago'],
    ['Dallas', 'Texas', 32.7767, -96.797, 'America/Chicago'],
    ['Houston', 'Texas', 29.7604, -95.3698, 'America/Chicago'],
    ['Atlanta', 'Georgia', 33.749, -84.388, 'America/New_York'],
    ['New York', 'New York', 40.7128, -74.006, 'America/New_York'],
    ['Boston', 'Massachusetts', 42.3601, -71.0589, 'America/New_York'],
    ['Miami', 'Florida', 25.7617, -80.1918, 'America/New_York'],
    ['Anchorage', 'Alaska', 61.2181, -149.9003, 'America/Anchorage'],
    ['Honolulu', 'Hawaii', 21.3069, -157.8583, 'Pacific/Honolulu'],
    ['Phoenix', 'Arizona', 33.4484, -112.074, 'America/Phoenix'],
    ['Yosemite Valley', 'California', 37.7456, -119.5936, 'America/Los_Angeles'],
  ],
  'United Kingdom': [
    ['London', null, 51.5074, -0.1278, 'Europe/London'],
    ['Manchester', null, 53.4808, -2.2426, 'Europe/London'],
    ['Edinburgh', null, 55.9533, -3.1883, 'Europe/London'],
    ['Glasgow', null, 55.8642, -4.2518, 'Europe/London'],
    ['Birmingham', null, 52.4862, -1.8904, 'Europe/London'],
    ['Bristol', null, 51.4545, -2.5879, 'Europe/London'],
    ['Oxford', null, 51.752, -1.2577, 'Europe/London'],
    ['Cambridge', null, 52.2053, 0.1218, 'Europe/London'],
  ],
  France: [
    ['Paris', 'Île-de-France', 48.8566, 2.3522, 'Europe/Paris'],
    ['Lyon', 'Rhône-Alpes', 45.764, 4.8357, 'Europe/Paris'],
    ['Marseille', "Provence-Alpes-Côte d'Azur", 43.2965, 5.3698, 'Europe/Paris'],
    ['Nice', "Provence-Alpes-Côte d'Azur", 43.7102, 7.262, 'Europe/Paris'],
    ['Toulouse', 'Midi-Pyrénées', 43.6047, 1.4442, 'Europe/Paris'],
    ['Bordeaux', 'Aquitaine', 44.8378, -0.5792, 'Europe/Paris'],
    ['Calais', 'Nord-Pas-de-Calais', 50.9513, 1.8587, 'Europe/Paris'],
    ['Avignon', "Provence-Alpes-Côte d'Azur", 43.9493, 4.8055, 'Europe/Paris'],
  ],
};

const COUNTRY_NAMES = Object.keys(COUNTRIES);
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const AIRLINE_WORDS = ['Air', 'Sky', 'Jet', 'Wings', 'Express', 'Pacific', 'Atlantic', 'Continental', 'Regional', 'Global', 'Star', 'Eagle', 'Falcon', 'Coastal', 'Northern', 'Southern', 'Royal', 'Blue', 'Sun', 'Alpine'];
const AIRPORT_SUFFIX = ['Intl', 'Regional', 'Municipal', 'Airport', 'Field', 'County'];
const EQUIPMENT = ['319', '320', '321', '738', '737', '73H', '757', '767', '777', 'CRJ', 'ERJ', 'DH4', 'AT7', 'E90', '330', '340'];
const HOTEL_WORDS = ['Grand', 'Park', 'Royal', 'Plaza', 'Inn', 'Lodge', 'House', 'Suites', 'Manor', 'Court', 'Garden', 'Tower', 'Harbour', 'Station', 'Castle', 'Bridge'];
const STREETS = ['High Street', 'Main Street', 'Market Street', 'Church Road', 'Station Road', 'Rue de la Paix', 'Avenue Foch', 'Broadway', 'Park Lane', 'King Street', 'Queen Street', 'Mill Lane'];
const PEOPLE = ['Ozella Sipes', 'Barton Marks', 'Blaise O\'Connell', 'Nedra Cronin', 'Mittie Farrell', 'Marisa Keebler', 'Hilda Stokes', 'Bryce Schimmel', 'Julius Tromp', 'Corrine Hilll', 'Jaeden McKenzie', 'Vallie Ryan', 'Brian Kilback', 'Lilian McLaughlin', 'Ms. Moses Feeney', 'Elnora Trantow'];
const LANDMARK_WORDS = ['Museum', 'Gallery', 'Park', 'Cathedral', 'Bridge', 'Market', 'Castle', 'Theatre', 'Tower', 'Garden', 'Café', 'Restaurant', 'Pub', 'Bistro', 'Monument', 'Square'];
const ACTIVITIES = ['see', 'see', 'see', 'eat', 'eat', 'do', 'drink', 'buy', 'listing'];
const SENTENCES = [
  'This was our second visit and it was as good as the first.',
  'The staff were friendly and helpful throughout our stay.',
  'Rooms were clean but a little small for the price.',
  'Great location, close to the station and the old town.',
  'Breakfast was excellent with plenty of choice.',
  'A little noisy at night because of the street outside.',
  'Would definitely recommend it to friends visiting the city.',
  'Parking was difficult to find in the area.',
];

export function* travelSampleDocs(options: TravelSampleOptions = {}): Generator<{ id: string; value: unknown }> {
  const rnd = prng(options.seed ?? 1);
  const scale = options.scale ?? 1;
  const n = (k: keyof typeof TRAVEL_SAMPLE_COUNTS): number => Math.max(1, Math.round(TRAVEL_SAMPLE_COUNTS[k] * scale));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const code = (k: number, len: number, alphabet = LETTERS): string => {
    let s = '';
    for (let i = 0; i < len; i++) {
      s = alphabet[k % alphabet.length] + s;
      k = Math.floor(k / alphabet.length);
    }
    return s;
  };
  const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
  const place = (): { country: string; c: City } => {
    const country = pick(COUNTRY_NAMES);
    return { country, c: pick(COUNTRIES[country]) };
  };

  // Airlines
  const airlines: { id: number; iata: string }[] = [];
  const airlineCount = n('airline');
  for (let i = 0; i < airlineCount; i++) {
    const id = i === 0 ? 10 : 10 + i * 97 + int(0, 50);
    const name = `${pick(AIRLINE_WORDS)} ${pick(AIRLINE_WORDS)}${i % 5 === 0 ? ' Airlines' : i % 5 === 1 ? ' Air' : ''}`;
    const iata = code(i * 7 + 3, 2, ALNUM);
    airlines.push({ id, iata });
    yield {
      id: `airline_${id}`,
      value: { id, type: 'airline', name, iata, icao: code(i * 13 + 5, 3), callsign: name.toUpperCase().replace(/ /g, '-'), country: pick(COUNTRY_NAMES) },
    };
  }

  // Airports
  const airports: { faa: string; lat: number; lon: number }[] = [];
  const airportCount = n('airport');
  for (let i = 0; i < airportCount; i++) {
    const id = 1254 + i * 5 + int(0, 4);
    const { country, c } = place();
    const lat = round(c[2] + (rnd() - 0.5) * 4, 6);
    const lon = round(c[3] + (rnd() - 0.5) * 4, 6);
    const faa = code(i * 8 + int(0, 7), 3);
    airports.push({ faa, lat, lon });
    yield {
      id: `airport_${id}`,
      value: {
        id,
        type: 'airport',
        airportname: `${c[0]} ${pick(AIRPORT_SUFFIX)}${i >= 40 ? ' ' + code(i, 2) : ''}`,
        city: c[0],
        country,
        faa,
        icao: code(i * 11 + 17, 4),
        tz: c[4],
        geo: { lat, lon, alt: int(0, 2500) },
      },
    };
  }

  // Routes
  const routeCount = n('route');
  for (let i = 0; i < routeCount; i++) {
    const id = 10000 + i;
    const al = airlines[i % airlines.length];
    const src = airports[int(0, airports.length - 1)];
    let dst = airports[int(0, airports.length - 1)];
    if (dst === src) dst = airports[(airports.indexOf(src) + 1) % airports.length];
    const flights = int(5, 20);
    const schedule: unknown[] = [];
    for (let f = 0; f < flights; f++) {
      schedule.push({ day: int(0, 6), utc: `${String(int(0, 23)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}:00`, flight: `${al.iata}${String(int(0, 999)).padStart(3, '0')}` });
    }
    yield {
      id: `route_${id}`,
      value: {
        id,
        type: 'route',
        airline: al.iata,
        airlineid: `airline_${al.id}`,
        sourceairport: src.faa,
        destinationairport: dst.faa,
        stops: rnd() < 0.95 ? 0 : 1,
        equipment: [pick(EQUIPMENT), ...(rnd() < 0.3 ? [pick(EQUIPMENT)] : [])].join(' '),
        schedule,
        distance: round(haversine(src.lat, src.lon, dst.lat, dst.lon), 6),
      },
    };
  }

  // Hotels
  const hotelCount = n('hotel');
  for (let i = 0; i < hotelCount; i++) {
    const id = 10025 + i * 23 + int(0, 20);
    const { country, c } = place();
    const name = `${pick(HOTEL_WORDS)} ${pick(HOTEL_WORDS)} ${i % 3 === 0 ? 'Hotel' : i % 3 === 1 ? 'Inn' : 'Hostel'}`;
    const reviews: unknown[] = [];
    const nr = int(0, 8);
    for (let r = 0; r < nr; r++) {
      reviews.push({
        content: `${pick(SENTENCES)} ${pick(SENTENCES)}`,
        ratings: { Service: int(1, 5), Cleanliness: int(1, 5), Overall: int(1, 5), Value: int(1, 5), Location: int(1, 5), Rooms: int(1, 5) },
        author: pick(PEOPLE),
        date: `20${String(int(12, 16)).padStart(2, '0')}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')} ${String(int(0, 23)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')} +0300`,
      });
    }
    const likes: string[] = [];
    for (let l = int(0, 6); l > 0; l--) likes.push(pick(PEOPLE));
    yield {
      id: `hotel_${id}`,
      value: {
        title: c[0],
        name,
        address: `${int(1, 250)} ${pick(STREETS)}`,
        directions: null,
        phone: `+${int(1, 44)} ${int(100, 999)} ${int(1000, 9999)}`,
        tollfree: null,
        email: null,
        fax: null,
        url: rnd() < 0.7 ? `http://www.${name.toLowerCase().replace(/ /g, '')}.com/` : null,
        checkin: rnd() < 0.5 ? '2PM' : null,
        checkout: rnd() < 0.5 ? '11AM' : null,
        price: rnd() < 0.6 ? `£${int(40, 300)}` : null,
        geo: { lat: round(c[2] + (rnd() - 0.5) * 0.2, 6), lon: round(c[3] + (rnd() - 0.5) * 0.2, 6), accuracy: rnd() < 0.8 ? 'ROOFTOP' : 'RANGE_INTERPOLATED' },
        type: 'hotel',
        id,
        country,
        city: c[0],
        state: c[1],
        free_breakfast: rnd() < 0.6,
        free_internet: rnd() < 0.7,
        free_parking: rnd() < 0.5,
        pets_ok: rnd() < 0.4,
        vacancy: rnd() < 0.7,
        description: `${pick(SENTENCES)} ${pick(SENTENCES)}`,
        alias: null,
        reviews,
        public_likes: likes,
      },
    };
  }

  // Landmarks
  const landmarkCount = n('landmark');
  for (let i = 0; i < landmarkCount; i++) {
    const id = 10019 + i * 3 + int(0, 2);
    const { country, c } = place();
    const activity = pick(ACTIVITIES);
    const name = `${pick(HOTEL_WORDS)} ${pick(LANDMARK_WORDS)}`;
    yield {
      id: `landmark_${id}`,
      value: {
        title: `${c[0]}/${name}`,
        name,
        alt: null,
        address: `${int(1, 250)} ${pick(STREETS)}`,
        directions: null,
        phone: rnd() < 0.5 ? `+${int(1, 44)} ${int(100, 999)} ${int(1000, 9999)}` : null,
        tollfree: null,
        email: null,
        url: rnd() < 0.5 ? `http://www.${name.toLowerCase().replace(/[^a-z]/g, '')}.org/` : null,
        hours: rnd() < 0.4 ? `${int(7, 10)}AM-${int(4, 11)}PM` : null,
        image: null,
        price: rnd() < 0.3 ? `£${int(1, 30)}` : null,
        content: `${pick(SENTENCES)}`,
        geo: { lat: round(c[2] + (rnd() - 0.5) * 0.2, 6), lon: round(c[3] + (rnd() - 0.5) * 0.2, 6), accuracy: rnd() < 0.8 ? 'ROOFTOP' : 'APPROXIMATE' },
        activity,
        type: 'landmark',
        id,
        country,
        city: c[0],
        state: c[1],
      },
    };
  }
}

function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = 6371;
  const dLat = ((lat2 - lat1) * Math.PI) / 180;
  const dLon = ((lon2 - lon1) * Math.PI) / 180;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos((lat1 * Math.PI) / 180) * Math.cos((lat2 * Math.PI) / 180) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(a));
}
