import { expect } from 'chai';
import { parseConnstr, knownOptionNames, DEFAULT_OPTIONS } from '../../lib/engine/connstr';
import { ArgumentError } from '../../lib/engine/errors';

function rejects(s: string, part: RegExp, overrides?: Record<string, unknown>): void {
  let err: unknown;
  try {
    parseConnstr(s, overrides);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ArgumentError for ${s}`).to.be.instanceOf(ArgumentError);
  expect((err as Error).message).to.match(part);
}

describe('engine connection strings', () => {
  it('reads hosts, ports and the bucket of a couchbase:// string', () => {
    const s = parseConnstr('couchbase://h1,h2:11299,[::1]:11210/travel-sample');
    expect(s.scheme).to.equal('couchbase');
    expect(s.tls).to.equal(false);
    expect(s.bucket).to.equal('travel-sample');
    expect(s.hosts).to.deep.equal([
      { host: 'h1', port: 0, mode: 'kv' },
      { host: 'h2', port: 11299, mode: 'kv' },
      { host: '::1', port: 11210, mode: 'kv' },
    ]);
  });

  it('defaults the bucket to "default" and the host to loopback', () => {
    expect(parseConnstr('couchbase://').bucket).to.equal('default');
    expect(parseConnstr('couchbase://').hosts).to.deep.equal([{ host: '127.0.0.1', port: 0, mode: 'kv' }]);
    expect(parseConnstr('couchbase://h/').bucket).to.equal('default');
  });

  it('treats =http, =mcd suffixes and the well-known REST port as libcouchbase does', () => {
    const s = parseConnstr('couchbase://a:8091,b:9000=http,c:12000=mcd,d:11210=cccp');
    expect(s.hosts.map((h) => h.mode)).to.deep.equal(['http', 'http', 'kv', 'kv']);
  });

  it('parses http:// strings as HTTP bootstrap ports and rejects KV modes there', () => {
    const s = parseConnstr('http://h1:8091,h2/b');
    expect(s.scheme).to.equal('http');
    expect(s.hosts).to.deep.equal([
      { host: 'h1', port: 8091, mode: 'http' },
      { host: 'h2', port: 0, mode: 'http' },
    ]);
    rejects('http://h1:11210=mcd/b', /HTTP ports only/);
  });

  it('turns on TLS for couchbases:// and takes a CA path', () => {
    const s = parseConnstr('couchbases://secure/b?certpath=/etc/ca.pem');
    expect(s.tls).to.equal(true);
    expect(s.options.ssl).to.equal('on');
    expect(s.options.certpath).to.equal('/etc/ca.pem');
    expect(parseConnstr('couchbases://h?truststorepath=/x.pem&ssl=no_verify').options.ssl).to.equal('no_verify');
  });

  it('rejects TLS options on a plain couchbase:// string', () => {
    rejects('couchbase://h?certpath=/ca.pem', /certpath.*couchbases/);
    rejects('couchbase://h?ssl=on', /ssl=on needs the couchbases/);
    rejects('couchbases://h?ssl=off', /contradicts/);
  });

  it('reads timeouts as seconds (floats), also with unit suffixes', () => {
    const s = parseConnstr('couchbase://h/b?operation_timeout=0.5&n1ql_timeout=120&views_timeout=2500ms&config_total_timeout=1.25s&durability_interval=100ms');
    expect(s.options.operation_timeout).to.equal(0.5);
    expect(s.options.n1ql_timeout).to.equal(120);
    expect(s.options.views_timeout).to.equal(2.5);
    expect(s.options.config_total_timeout).to.equal(1.25);
    expect(s.options.durability_interval).to.equal(0.1);
  });

  it('keeps the documented defaults for options not given', () => {
    const s = parseConnstr('couchbase://h');
    expect(s.options.operation_timeout).to.equal(2.5);
    expect(s.options.config_poll_interval).to.equal(2.5);
    expect(s.options.n1ql_timeout).to.equal(75);
    expect(s.options.bootstrap_on).to.equal('all');
    expect(s.options).to.deep.equal({ ...DEFAULT_OPTIONS });
  });

  it('reads booleans, enums and integers', () => {
    const s = parseConnstr('couchbase://h?enable_tracing=true&fetch_mutation_tokens=on&bootstrap_on=cccp&sasl_mech_force=PLAIN&error_thresh_count=3&compression=off&detailed_errcodes=0');
    expect(s.options.enable_tracing).to.equal(true);
    expect(s.options.fetch_mutation_tokens).to.equal(true);
    expect(s.options.bootstrap_on).to.equal('cccp');
    expect(s.options.sasl_mech_force).to.equal('PLAIN');
    expect(s.options.error_thresh_count).to.equal(3);
    expect(s.options.detailed_errcodes).to.equal(false);
  });

  it('accepts aliases used by newer SDKs', () => {
    const s = parseConnstr('couchbase://h?kv_timeout=1.5&query_timeout=9&enable_mutation_tokens=true');
    expect(s.options.operation_timeout).to.equal(1.5);
    expect(s.options.n1ql_timeout).to.equal(9);
    expect(s.options.fetch_mutation_tokens).to.equal(true);
  });

  it('takes credentials from the string or from the options, options winning', () => {
    expect(parseConnstr('couchbase://h/b?username=u&password=p').options).to.include({ username: 'u', password: 'p' });
    const s = parseConnstr('couchbase://h/b?username=u&password=p', { username: 'v', password: 'q', operation_timeout: 1 });
    expect(s.options).to.include({ username: 'v', password: 'q', operation_timeout: 1 });
    expect(s.display).to.not.include('password=p');
  });

  it('decodes percent-encoded buckets and option values', () => {
    const s = parseConnstr('couchbase://h/my%20bucket?client_string=a%26b');
    expect(s.bucket).to.equal('my bucket');
    expect(s.options.client_string).to.equal('a&b');
  });

  it('names the unknown option in its error', () => {
    rejects('couchbase://h/b?operation_timeoot=2', /unknown option "operation_timeoot"/);
    rejects('couchbase://h/b', /unknown option "bogus"/, { bogus: 1 });
  });

  it('names the malformed part of the string', () => {
    rejects('couchbase://h/b?operation_timeout=fast', /operation_timeout="fast" is not a duration/);
    rejects('couchbase://h/b?operation_timeout=-1', /operation_timeout/);
    rejects('couchbase://h/b?enable_tracing=maybe', /enable_tracing=maybe must be true or false/);
    rejects('couchbase://h/b?bootstrap_on=carrier', /bootstrap_on="carrier" must be one of/);
    rejects('couchbase://h:99999/b', /port "99999"/);
    rejects('couchbase://h:abc/b', /port "abc"/);
    rejects('couchbase://h1,,h2/b', /empty host/);
    rejects('couchbase://h:1=xyz/b', /unknown port type "=xyz"/);
    rejects('couchbase://[::1/b', /closing "]"/);
    rejects('couchbase://::1:11210/b', /IPv6 addresses in brackets/);
    rejects('couchbase://h/b/c', /must not contain "\/"/);
    rejects('couchbase://h/b?novalue', /name=value/);
    rejects('redis://h/b', /unknown scheme "redis:\/\/"/);
    rejects('couchbase://us@er:pw@h/b', /credentials/);
    rejects('', /non-empty/);
    rejects('couchbase://h?error_thresh_count=1.5', /integer/);
  });

  it('treats a bare host list as couchbase://', () => {
    const s = parseConnstr('h1,h2/b');
    expect(s.scheme).to.equal('couchbase');
    expect(s.hosts.map((h) => h.host)).to.deep.equal(['h1', 'h2']);
  });

  it('lists every option it knows', () => {
    const names = knownOptionNames();
    for (const n of ['operation_timeout', 'config_total_timeout', 'config_node_timeout', 'n1ql_timeout', 'views_timeout', 'durability_timeout', 'http_poll_interval', 'config_poll_interval', 'bootstrap_on', 'sasl_mech_force', 'certpath', 'truststorepath', 'enable_tracing']) {
      expect(names).to.include(n);
    }
  });
});
