// A small travel-shaped bucket whose every query result is easy to work out by hand.
import { Engine } from './harness';

export const DOCS: Record<string, unknown> = {
  airline_1: { type: 'airline', id: 1, name: 'Alpha Air', iata: 'AA', country: 'France' },
  airline_2: { type: 'airline', id: 2, name: 'Beta Jet', iata: 'BJ', country: 'United States' },
  airline_3: { type: 'airline', id: 3, name: 'Gamma', iata: null, country: 'United States' },
  airport_1: { type: 'airport', id: 1, airportname: 'Paris Intl', faa: 'CDG', city: 'Paris', country: 'France', geo: { lat: 49, lon: 2.5, alt: 392 } },
  airport_2: { type: 'airport', id: 2, airportname: 'San Francisco Intl', faa: 'SFO', city: 'San Francisco', country: 'United States', geo: { lat: 37.6, lon: -122.4, alt: 13 } },
  airport_3: { type: 'airport', id: 3, airportname: 'Nice', faa: 'NCE', city: 'Nice', country: 'France', geo: { lat: 43.6, lon: 7.2, alt: 12 } },
  route_1: { type: 'route', id: 1, airlineid: 'airline_1', sourceairport: 'CDG', destinationairport: 'SFO', stops: 0, schedule: [{ day: 0, flight: 'AA100' }, { day: 3, flight: 'AA101' }], distance: 8950 },
  route_2: { type: 'route', id: 2, airlineid: 'airline_2', sourceairport: 'SFO', destinationairport: 'CDG', stops: 0, schedule: [{ day: 1, flight: 'BJ200' }], distance: 8950 },
  route_3: { type: 'route', id: 3, airlineid: 'airline_1', sourceairport: 'CDG', destinationairport: 'NCE', stops: 1, schedule: [], distance: 686 },
};

/** An engine with bucket `travel` loaded with DOCS and a primary index. */
export function travelEngine(): Engine {
  const e = new Engine(['travel']);
  e.load('travel', DOCS);
  e.rows('CREATE PRIMARY INDEX ON travel');
  return e;
}
